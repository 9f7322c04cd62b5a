"""The audiogram's figure: a threshold map over the half plane per detector, and the radial curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .common import save_figure, subplots

DETECTOR_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def plot_limits(table: pd.DataFrame, detectors: list[str], axes=None) -> Figure:
    """Panels: per detector, the threshold (grey levels, log colour) at each ``(fx, fy)``;
    last, threshold against radius for every detector (bars: the search's bracket), with
    the floor of uint8 images (a sinusoid below 0.5 grey levels rounds away)."""
    if axes is None:
        fig, axes = subplots(1, len(detectors) + 1, figsize=(3.3 * (len(detectors) + 1), 3.0))
    fig = axes[0].figure
    finite = np.concatenate([table[f"threshold_{d}"].to_numpy() for d in detectors])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    norm = LogNorm(*(finite.min(), finite.max()) if len(finite) else (0.1, 10))
    for ax, detector in zip(axes, detectors):
        values = table[f"threshold_{detector}"].to_numpy()
        seen = np.isfinite(values)
        points = ax.scatter(table["fx"][seen], table["fy"][seen], c=values[seen], norm=norm, cmap="viridis",
                            marker="s", s=120, edgecolors="none")  # fmt: skip
        ax.scatter(table["fx"][~seen], table["fy"][~seen], marker="x", color="black", s=40, label="not detected")
        ax.set_xlim(-0.03, 0.53)
        ax.set_ylim(-0.53, 0.53)
        ax.set_aspect("equal")
        ax.set_xlabel("fx [cycles/px]")
        ax.set_ylabel("fy [cycles/px]")
        ax.set_title(f"{detector}: threshold [grey levels]", fontsize=8)
        if (~seen).any():
            ax.legend(fontsize=6, frameon=False, loc="lower right")
        fig.colorbar(points, ax=ax, shrink=0.8)
    ax = axes[len(detectors)]
    for k, detector in enumerate(detectors):
        colour = DETECTOR_COLOURS[k % len(DETECTOR_COLOURS)]
        shown = np.isfinite(table[f"threshold_{detector}"]).to_numpy()
        values, low, high = (table[f"threshold_{detector}{s}"].to_numpy()[shown] for s in ("", "_low", "_high"))
        spread = np.stack([values - np.where(low > 0, low, values), high - values])
        ax.errorbar(table["radius"][shown], values, yerr=spread, fmt="o", ms=3, color=colour, alpha=0.6,
                    elinewidth=0.6, label=detector)  # fmt: skip
        median = pd.Series(np.where(shown, table[f"threshold_{detector}"], np.nan)).groupby(table["radius"].round(6)).median()
        ax.plot(median.index, median.to_numpy(), color=colour, linewidth=1)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=0.8, label="0.5: rounds away in uint8")
    ax.set_yscale("log")
    ax.set_xlabel("radius [cycles/px]")
    ax.set_ylabel("threshold [grey levels]")
    ax.set_title("threshold by radius (line: median)", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def save_limits_figure(table: pd.DataFrame, detectors: list[str], stem: Path) -> list[Path]:
    return save_figure(plot_limits(table, detectors), stem)
