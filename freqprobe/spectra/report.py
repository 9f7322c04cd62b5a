"""``fp.spectrum(real, *fakes)`` and its result, ``SpectrumReport``.

A run folder (``SpectrumReport.save``) holds:

- ``radial.csv``: ``set, f, power, se, power_db, mean_log_db, spectrum, channel,
  n_frequencies`` (``spectrum`` is ``image`` or ``residual``; ``channel`` R, G, B or the
  luminance Y; residuals are of Y only);
- ``peaks.csv``: ``set, fy, fx, radius, score, excess_db, level_db``, peaks of each set's
  mean residual spectrum (mean of log), sets in input order, strongest first within a set;
- ``comparison.csv``: each generated set against the real one per radial bin (``ratio``,
  ``sde``, Welch ``t``, ``p_value``, ``p_adjusted``, ``significant``);
- ``angular.csv``, ``subbands.csv``, ``dct.csv``: orientation profile, Haar sub-band
  energies, 8x8 DCT coefficient statistics;
- ``maps.npz``: the 2-D maps (mean power, mean dB, residual power and autocorrelation,
  significance masks) on the FFT grid with axes ``fy``, ``fx``;
- ``settings.json``; ``spectra.png`` / ``.pdf``, drawn from the files above.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from .._version import __version__
from ..data import ImageSet, load_images
from ..data.naming import default_set_names
from ..data.sizing import CROP_HINT
from ..device import resolve_device
from ..errors import DataError, FreqprobeError
from ..display import TableDisplay
from ..execution.ray_session import check_executor
from ..io import check_table_names, write_arrays_and_settings, write_table
from ..runfolder import claim_folder
from ..validation import check_int
from .compare import FDR
from .measure import CHANNELS, MeasurePlan, measure_set
from .peaks import MAX_PEAKS, MIN_SCORE
from .power import check_window
from .profiles import ANGULAR_MIN_RADIUS, ANGULAR_SECTORS
from .residuals import check_denoiser
from .subbands import SUBBAND_WAVELET
from .tables import angular_table, comparison_table, dct_table, peak_table, radial_table, spectral_maps, subband_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Fewest images per set: standard errors and t-tests from fewer are themselves too noisy
#: (the relative error of a standard deviation from n images is about 1 / sqrt(2 (n - 1))).
MIN_IMAGES = 8
#: Smallest image side: one 8x8 DCT tile and a few radial bins.
MIN_SIDE = 16
TABLES = ("radial", "peaks", "comparison", "angular", "subbands", "dct")

ImageSource = ImageSet | str | os.PathLike[str] | np.ndarray | torch.Tensor


@dataclasses.dataclass(repr=False)
class SpectrumReport(TableDisplay):
    """Spectra of a real set and generated sets: tables, 2-D maps and the settings used.

    ``table`` is the radial profile table; the others are attributes named as their CSV
    files. ``maps`` holds the arrays of ``maps.npz``.
    """

    radial: pd.DataFrame
    peaks: pd.DataFrame
    comparison: pd.DataFrame
    angular: pd.DataFrame
    subbands: pd.DataFrame
    dct: pd.DataFrame
    maps: dict[str, np.ndarray]
    settings: dict[str, Any]

    @property
    def table(self) -> pd.DataFrame:
        """The radial profiles (``radial.csv``)."""
        return self.radial

    @property
    def names(self) -> list[str]:
        """Set names, the real set first."""
        return [str(name) for name in self.maps["sets"]]

    def describe(self) -> str:
        sets, peaks = self.settings["sets"], self.peaks["set"].value_counts()
        listed = ", ".join(f"{name} ({sets[name]['n']} images, {peaks.get(name, 0)} peaks)" for name in self.names)
        return f"{listed}; {self.settings['height']}x{self.settings['width']} px; tables {', '.join(TABLES)}"

    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write every table, ``maps.npz``, ``settings.json``, then the figure drawn from them."""
        folder = Path(folder)
        claim_folder(folder, "spectrum")
        paths = [write_table(getattr(self, name), folder / f"{name}.csv") for name in TABLES]
        paths += write_arrays_and_settings(folder, self.maps, self.settings)
        return paths + redraw(folder)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> SpectrumReport:
        """Read a run folder written by ``save``."""
        folder = Path(folder)
        missing = [n for n in (*(f"{t}.csv" for t in TABLES), "maps.npz", "settings.json") if not (folder / n).exists()]
        if missing:
            raise DataError(f"{folder}: not a spectrum run folder (missing {', '.join(missing)})")
        tables = {name: pd.read_csv(folder / f"{name}.csv") for name in TABLES}
        with np.load(folder / "maps.npz") as archive:
            maps = {key: archive[key] for key in archive.files}
        settings = json.loads((folder / "settings.json").read_text())
        return cls(**tables, maps=maps, settings=settings)

    def plot(self) -> Figure:
        """The spectra figure (see ``freqprobe.figures.spectra``), for Jupyter or ``save_figure``."""
        from ..figures.spectra import spectra_figure

        return spectra_figure(self.radial, self.peaks, self.comparison, self.maps, self.settings)


def redraw(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw ``spectra.png`` / ``.pdf`` of a run folder from its saved tables and maps."""
    from ..figures import save_figure

    return save_figure(SpectrumReport.load(folder).plot(), Path(folder) / "spectra")


def _as_image_set(source: ImageSource) -> ImageSet:
    return source if isinstance(source, ImageSet) else load_images(source)


def check_options(window: str, denoiser: str, min_score: float, max_peaks: int, batch_size: int | None) -> None:
    """One-line errors for bad options, before any image is read (the command line checks first)."""
    check_window(window)
    check_denoiser(denoiser)
    if batch_size is not None:
        check_int(batch_size, "batch_size", 1)
    if not isinstance(max_peaks, (int, np.integer)) or isinstance(max_peaks, bool) or max_peaks < 1:
        raise FreqprobeError(f"max_peaks={max_peaks!r} must be an int >= 1")
    if not (isinstance(min_score, (int, float, np.number)) and np.isfinite(min_score) and min_score >= 0):
        raise FreqprobeError(f"min_score={min_score!r} must be a finite number >= 0 (a robust z)")


def _check_sets(names: Sequence[str], sets: Sequence[ImageSet]) -> None:
    sizes = {name: images.size for name, images in zip(names, sets)}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name} {h}x{w}" for name, (h, w) in sizes.items())
        raise DataError(f"sets differ in image size ({listed}); {CROP_HINT}")
    height, width = sets[0].size
    if min(height, width) < MIN_SIDE:
        raise DataError(f"images of {height}x{width} are too small for spectra; need at least {MIN_SIDE}x{MIN_SIDE}")
    for name, images in zip(names, sets):
        if len(images) < MIN_IMAGES:
            raise DataError(f"set {name!r} has {len(images)} images; spectra need at least {MIN_IMAGES} per set")


def spectrum(
    real: ImageSource,
    *fakes: ImageSource,
    names: Sequence[str] | None = None,
    window: str = "hann",
    denoiser: str = "gaussian",
    min_score: float = MIN_SCORE,
    max_peaks: int = MAX_PEAKS,
    batch_size: int | None = None,
    device: str | torch.device = "auto",
    executor: str = "local",
    address: str | None = None,
) -> SpectrumReport:
    """Mean and residual spectra, profiles, comparisons and artifact peaks of image sets.

    Args:
        real: the reference set (an ``ImageSet``, or anything ``load_images`` reads).
        *fakes: generated sets of the same image size, each compared with ``real``.
        names: one name per set; default ``real``, then each generated set's file name
            (``fake``, or ``fake1``, ``fake2``, … for sets in memory; ``data.naming``).
        window: ``"hann"`` (default; against leakage from the image borders) or ``"none"``.
        denoiser: for the noise residual: ``gaussian`` (default; linear, so every periodic
            pattern passes into the residual), ``median3``, ``median5``, ``wavelet`` (see
            ``freqprobe.spectra.residuals`` for what each cannot see).
        min_score: the smallest robust z a peak must reach (``freqprobe.spectra.peaks``).
        max_peaks: at most this many peaks per set.
        batch_size: images per batch (default: about 0.5 M pixels on the CPU, 16 M on CUDA).
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ...
        executor: ``"local"`` (in this process) or ``"ray"``: each set split into shards
            of whole batches, measured by Ray tasks, their sums added (the same report, to
            float64 rounding; ``freqprobe.spectra.sharded``).
        address: the Ray cluster to join (default ``RAY_ADDRESS``, else Ray on this machine).

    Returns:
        A ``SpectrumReport``.

    Raises:
        FreqprobeError: an unknown window or denoiser, names that do not match the sets, a
            batch size or ``max_peaks`` below 1, a negative or NaN ``min_score``, an
            unknown executor or ``ray`` without Ray installed;
            ``DataError`` for sets whose image sizes differ, images smaller than 16x16, or
            a set of fewer than 8 images.

    Example:
        >>> import freqprobe as fp
        >>> real, fake = fp.demo_sets(n=16, size=32)
        >>> report = fp.spectrum(real, fake, names=["real", "generated"], device="cpu")
        >>> sorted(set(report.table["set"])), report.table.columns[:3].tolist()
        (['generated', 'real'], ['set', 'f', 'power'])
    """
    check_options(window, denoiser, min_score, max_peaks, batch_size)
    check_executor(executor)
    if names is not None:
        names = [str(name) for name in names]
        if len(names) != 1 + len(fakes) or len(set(names)) != len(names):
            raise FreqprobeError(f"names must be {1 + len(fakes)} distinct names, one per set; got {names}")
        check_table_names(names, "set name")  # before any loading
    sets = [_as_image_set(source) for source in (real, *fakes)]
    names = default_set_names(sets[0], sets[1:]) if names is None else names
    check_table_names(names, "set name")  # the files' own names too, before any measuring
    _check_sets(names, sets)
    height, width = sets[0].size
    plan = MeasurePlan.build(height, width, resolve_device(device), window, denoiser, batch_size)
    if executor == "ray":
        from .sharded import measure_sets_on_ray

        sums = measure_sets_on_ray(sets, plan, window, str(device), address)
    else:
        sums = [measure_set(images, plan) for images in sets]
    maps = spectral_maps(names, sums, plan)
    settings = {
        "version": __version__,
        "sets": {name: {"n": len(images), "origin": images.origin} for name, images in zip(names, sets)},
        "height": height,
        "width": width,
        "channels": list(CHANNELS),
        "window": window,
        "denoiser": denoiser,
        "radial_bin_width": 1.0 / min(height, width),
        "angular_sectors": ANGULAR_SECTORS,
        "angular_min_radius": ANGULAR_MIN_RADIUS,
        "subband_wavelet": SUBBAND_WAVELET,
        "subband_levels": plan.subband_levels,
        "fdr": FDR,
        "min_score": min_score,
        "max_peaks": max_peaks,
        "device": str(plan.device),
    }
    return SpectrumReport(
        radial=radial_table(names, sums, plan),
        peaks=peak_table(names, maps, min_score, max_peaks),
        comparison=comparison_table(names, sums, plan),
        angular=angular_table(names, sums, plan),
        subbands=subband_table(names, sums, plan),
        dct=dct_table(names, sums),
        maps=maps,
        settings=settings,
    )
