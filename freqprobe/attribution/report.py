"""``AttributionReport``: band importances, Fourier maps and pixel maps, saved as a run folder.

A run folder (``AttributionReport.save``) holds:

- ``bands.csv``: per method, image group (``images``: ``all``, ``real``, ``fake``) and band
  ``method, images, band, f_lo, f_hi, angle_lo, angle_hi, importance, ci_low, ci_high, rank,
  n_frequencies`` (rank 1 = most important within a method and group);
- ``sensitivity.csv``: the radial profile of the Fourier sensitivity, ``class, f, sensitivity``;
- ``maps.npz``: ``fourier_sensitivity`` (real, fake) x H x W in FFT order, ``heatmap`` error rates
  (real, fake) x H x W (when computed), ``band_<method>`` per-image band attributions (N x B) with ``labels``,
  ``pixel_mean_<method>`` (real, fake) x H x W, ``pixel_<method>`` for the shown images,
  ``shown_images`` (uint8, S x 3 x H x W) and ``shown_labels``;
- ``settings.json``: what was attributed, on which images, with which settings;
- ``attribution.png/.pdf``; ``pixels_<method>.png/.pdf`` and ``pixel_means.png/.pdf``
  when pixel maps were computed; all drawn from the files above.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..display import TableDisplay
from ..errors import DataError
from ..io import write_arrays_and_settings, write_table
from ..runfolder import claim_folder

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TABLES = ("bands", "sensitivity")
CLASS_NAMES = ("real", "fake")


@dataclasses.dataclass(repr=False)
class AttributionReport(TableDisplay):
    """Why a classifier tells real from fake: per band, per Fourier coefficient, per pixel.

    ``table`` is the band table (``bands.csv``); ``sensitivity`` the radial profile of the
    Fourier sensitivity; ``maps`` the arrays of ``maps.npz``; ``settings`` what was done.
    """

    bands: pd.DataFrame
    sensitivity: pd.DataFrame
    maps: dict[str, np.ndarray]
    settings: dict[str, Any]

    @property
    def table(self) -> pd.DataFrame:
        """The band importances (``bands.csv``)."""
        return self.bands

    @property
    def ranking(self) -> pd.DataFrame:
        """One row per band (``band, f_lo, f_hi``, angles with sectors), its rank over all images
        by each method; most important first by the first method."""
        methods = self.settings["methods"]
        over_all = self.bands[self.bands["images"] == "all"]
        ranks = over_all.pivot(index="band", columns="method", values="rank")[methods].reset_index()
        columns = ["band", "f_lo", "f_hi"] + (["angle_lo", "angle_hi"] if self.settings["sectors"] > 1 else [])
        described = over_all[over_all["method"] == methods[0]][columns].merge(ranks, on="band")
        return described.sort_values(methods[0]).reset_index(drop=True)

    @property
    def pixel_methods(self) -> list[str]:
        return list(self.settings["pixel_methods"])

    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write the tables, ``maps.npz`` and ``settings.json``, then the figures drawn from them."""
        folder = Path(folder)
        claim_folder(folder, "attribute")
        paths = [write_table(getattr(self, name), folder / f"{name}.csv") for name in TABLES]
        paths += write_arrays_and_settings(folder, self.maps, self.settings)
        return paths + redraw(folder)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> AttributionReport:
        """Read a run folder written by ``save``."""
        folder = Path(folder)
        needed = [*(f"{name}.csv" for name in TABLES), "maps.npz", "settings.json"]
        missing = [name for name in needed if not (folder / name).exists()]
        if missing:
            raise DataError(f"{folder}: not an attribution run folder (missing {', '.join(missing)})")
        tables = {name: pd.read_csv(folder / f"{name}.csv") for name in TABLES}
        with np.load(folder / "maps.npz") as archive:
            maps = {key: archive[key] for key in archive.files}
        return cls(**tables, maps=maps, settings=json.loads((folder / "settings.json").read_text()))

    def plot(self) -> Figure:
        """Band importances per method, the Fourier sensitivity (map and radial profile), the heat map."""
        from ..figures.attribution import attribution_figure

        return attribution_figure(self.bands, self.sensitivity, self.maps, self.settings)

    def plot_pixels(self, method: str) -> Figure:
        """The shown images, their ``method`` maps and overlays, in a grid."""
        from ..figures.attribution import pixel_grid_figure

        maps = self.maps
        return pixel_grid_figure(maps["shown_images"], maps[f"pixel_{method}"], maps["shown_labels"], method)

    def plot_pixel_means(self) -> Figure:
        """Mean maps per class (and fake minus real) for every pixel method."""
        from ..figures.attribution import pixel_means_figure

        return pixel_means_figure({m: self.maps[f"pixel_mean_{m}"] for m in self.pixel_methods})

    shown_table = "bands"

    def describe(self) -> str:
        ranking = self.ranking
        first = ranking.iloc[0]
        where = f"{first['f_lo']:.3g}-{first['f_hi']:.3g} cycles/px"
        methods = self.settings["methods"]
        return f"{len(ranking)} bands by {', '.join(methods)}; ranked first by {methods[0]}: {where}"


def redraw(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw the figures of a run folder from its saved tables and maps."""
    from ..figures import save_figure

    folder = Path(folder)
    report = AttributionReport.load(folder)
    figures = {"attribution": report.plot()}
    for method in report.pixel_methods:
        figures[f"pixels_{method}"] = report.plot_pixels(method)
    if report.pixel_methods:
        figures["pixel_means"] = report.plot_pixel_means()
    paths = []
    for stem, fig in figures.items():
        paths += save_figure(fig, folder / stem)
    return paths
