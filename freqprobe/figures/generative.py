"""The diffusion classifier's accuracy against its budget, beside the Bayes accuracy."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .ablation import SERIES_COLOURS
from .common import CHANCE_GID, legend_outside, subplots


def budget_figure(
    table: pd.DataFrame, bayes_accuracy: float, ax: Axes | None = None, chance: float | None = None
) -> tuple[Figure, Axes]:
    """Accuracy (with its interval) and agreement with the Bayes classifier against the
    evaluations per image, one line per weighting; columns ``weighting, budget, accuracy,
    ci_low, ci_high, agreement``. ``chance`` (1/K for K classes) draws the chance line."""
    fig, ax = subplots(figsize=(6.4, 3.4)) if ax is None else (ax.figure, ax)
    for k, (weighting, rows) in enumerate(table.groupby("weighting", sort=False)):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        rows = rows.sort_values("budget")
        ax.plot(rows["budget"], rows["accuracy"], "o-", color=colour, label=f"{weighting}: accuracy")
        ax.fill_between(rows["budget"], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.15, lw=0)
        ax.plot(rows["budget"], rows["agreement"], "s--", color=colour, ms=3, label=f"{weighting}: agrees with Bayes")
    ax.axhline(bayes_accuracy, color="k", lw=1, ls="-.", label=f"Bayes accuracy ({bayes_accuracy:.2f})")
    if chance is not None:
        ax.axhline(chance, color="k", lw=0.8, ls=":", label=f"chance ({chance:.2g})", gid=f"{CHANCE_GID}:kway")
    ax.set_xscale("log", base=2)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("denoiser evaluations per image (budget)")
    ax.set_ylabel("fraction of images")
    legend_outside(ax)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig, ax
