"""The diffusion classifier's accuracy against its budget, beside the Bayes accuracy."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .common import subplots


def budget_figure(table: pd.DataFrame, bayes_accuracy: float, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Accuracy (with its interval) and agreement with the Bayes classifier against the
    evaluations per image, one line per weighting; columns ``weighting, budget, accuracy,
    ci_low, ci_high, agreement``."""
    fig, ax = subplots(figsize=(5.2, 3.6)) if ax is None else (ax.figure, ax)
    for colour, (weighting, rows) in zip(("C0", "C1", "C2", "C3"), table.groupby("weighting", sort=False)):
        rows = rows.sort_values("budget")
        ax.plot(rows["budget"], rows["accuracy"], "o-", color=colour, label=f"{weighting}: accuracy")
        ax.fill_between(rows["budget"], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.15, lw=0)
        ax.plot(rows["budget"], rows["agreement"], "s--", color=colour, ms=3, label=f"{weighting}: agrees with Bayes")
    ax.axhline(bayes_accuracy, color="k", lw=1, ls=":", label="Bayes accuracy")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("denoiser evaluations per image (budget)")
    ax.set_ylabel("fraction of images")
    ax.legend(fontsize=7, loc="lower right")
    return fig, ax
