"""``ProbeReport``: the tables of a probe (or of trial tables alone) and its run folder.

A run folder (``ProbeReport.save``) holds:

- ``curves.csv``: ``model, distortion, condition, level, accuracy, ci_low, ci_high,
  n_trials, n_correct`` (95 % Wilson intervals), one row per observer and condition;
- ``trials.csv``: every decision, ``subj, distortion, condition, imagename, category,
  object_response`` (model-vs-human's raw-data columns, plus ``distortion``);
- ``shape_bias.csv``: ``observer, distortion, condition, class, shape_bias, frac_shape,
  frac_texture, n_trials, n_conflict, n_shape, n_texture, reason`` (``class == "all"``
  is the overall bias; header only when no image is a cue-conflict image);
- ``consistency.csv``: ``observer_a, observer_b, distortion, condition, observed,
  expected, kappa, n_trials, accuracy_a, accuracy_b, reason`` (header only for one observer);
- ``settings.json``; figures ``probe``, ``shape_bias``, ``consistency`` (PNG + PDF), the
  last two when their table has rows. Figures are drawn from the saved tables.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..display import TableDisplay
from ..errors import DataError
from ..io import atomic_path, write_table
from .conditions import harmonise_conditions
from ..runfolder import claim_folder
from .consistency import consistency_table
from .curves import curves_table
from .shape_bias import shape_bias_table
from .trials import COLUMNS as TRIAL_COLUMNS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TABLES = ("curves", "trials", "shape_bias", "consistency")


@dataclasses.dataclass(repr=False)
class ProbeReport(TableDisplay):
    """Accuracy curves, trials, shape bias and error consistency of one or more observers."""

    curves: pd.DataFrame
    trials: pd.DataFrame
    shape_bias: pd.DataFrame
    consistency: pd.DataFrame
    settings: dict[str, Any]

    @classmethod
    def from_trials(
        cls,
        trials: pd.DataFrame,
        settings: dict[str, Any] | None = None,
        classes: Collection[str] | None = None,
        levels: Mapping[tuple[str, str], float] | None = None,
    ) -> ProbeReport:
        """Every table from a trial table (models and humans alike); condition labels of
        one meaning get one spelling first (``freqprobe.probe.conditions``)."""
        (trials,) = harmonise_conditions([trials])
        return cls(
            curves=curves_table(trials, levels),
            trials=trials[list(TRIAL_COLUMNS)].reset_index(drop=True),
            shape_bias=shape_bias_table(trials, classes),
            consistency=consistency_table(trials),
            settings=dict(settings or {}),
        )

    @property
    def table(self) -> pd.DataFrame:
        """The accuracy curves (``curves.csv``)."""
        return self.curves

    @property
    def observers(self) -> list[str]:
        return list(dict.fromkeys(self.curves["model"]))

    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write the tables and ``settings.json``, then the figures drawn from them."""
        folder = Path(folder)
        claim_folder(folder, "probe")
        paths = [write_table(getattr(self, name), folder / f"{name}.csv") for name in TABLES]
        with atomic_path(folder / "settings.json") as partial:
            partial.write_text(json.dumps(self.settings, indent=2, default=str) + "\n")
        return [*paths, folder / "settings.json", *redraw(folder)]

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ProbeReport:
        """Read a run folder written by ``save``."""
        folder = Path(folder)
        missing = [f"{name}.csv" for name in TABLES if not (folder / f"{name}.csv").exists()]
        if missing:
            raise DataError(f"{folder}: not a probe run folder (missing {', '.join(missing)})")
        text = {"condition": str, "distortion": str, "class": str, "subj": str, "imagename": str, "category": str,
                "object_response": str, "model": str, "observer": str, "observer_a": str, "observer_b": str,
                "reason": str}  # fmt: skip
        tables = {name: pd.read_csv(folder / f"{name}.csv", dtype=text, keep_default_na=False, na_values=[""])  # a class named None stays one
                  for name in TABLES}
        settings_path = folder / "settings.json"
        settings = json.loads(settings_path.read_text()) if settings_path.exists() else {}
        return cls(**tables, settings=settings)

    def plot(self) -> Figure:
        """Accuracy against level, one panel per distortion, observers as lines."""
        from ..figures.probe import plot_curves

        return plot_curves(self.curves, chance=self.settings.get("chance"))

    shown_table = "curves"

    def describe(self) -> str:
        curves = self.curves
        distortions = [d for d in dict.fromkeys(curves["distortion"]) if d != "original"]
        return (
            f"observers {', '.join(dict.fromkeys(curves['model']))}; {len(self.trials)} trials; "
            f"distortions {', '.join(distortions) or 'none'}"
        )


def redraw(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw the figures of a run folder from its saved tables."""
    from ..figures import save_figure
    from ..figures.probe import plot_consistency, plot_shape_bias

    report = ProbeReport.load(folder)
    figures = [(report.plot(), "probe")]
    if not report.shape_bias.empty:
        figures.append((plot_shape_bias(report.shape_bias), "shape_bias"))
    if not report.consistency.empty:
        figures.append((plot_consistency(report.consistency), "consistency"))
    paths = []
    for fig, stem in figures:
        paths += save_figure(fig, Path(folder) / stem)
    return paths
