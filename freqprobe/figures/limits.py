"""The audiogram's figure: a threshold map over the half plane per detector, and the radial curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .common import SEQUENTIAL_CMAP, save_figure, subplots

DETECTOR_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


#: Panels per row: maps of three detectors and the radial curve stay within a page's width.
COLUMNS = 3


def plot_limits(table: pd.DataFrame, detectors: list[str]) -> Figure:
    """Panels: per detector, the threshold (grey levels, log colour, one scale for all) at
    each ``(fx, fy)``; last, threshold against radius for every detector (bars: the search's
    bracket), with the floor of uint8 images (a sinusoid below 0.5 grey levels rounds away).
    Panels wrap at ``COLUMNS`` a row; legends sit below their panels, off the data."""
    panels = len(detectors) + 1
    rows, columns = -(-panels // COLUMNS), min(panels, COLUMNS)
    fig, axes = subplots(rows, columns, figsize=(3.4 * columns, 3.6 * rows), squeeze=False)
    axes = axes.ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    finite = np.concatenate([table[f"threshold_{d}"].to_numpy() for d in detectors])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    norm = LogNorm(*(finite.min(), finite.max()) if len(finite) else (0.1, 10))
    for ax, detector in zip(axes, detectors):
        _threshold_map(ax, table, detector, norm)
    _radial_curves(axes[len(detectors)], table, detectors)
    fig.tight_layout()
    return fig


def _threshold_map(ax, table: pd.DataFrame, detector: str, norm: LogNorm) -> None:
    values = table[f"threshold_{detector}"].to_numpy()
    seen = np.isfinite(values)
    points = ax.scatter(table["fx"][seen], table["fy"][seen], c=values[seen], norm=norm, cmap=SEQUENTIAL_CMAP,
                        marker="s", s=120, edgecolors="none")  # fmt: skip
    ax.scatter(table["fx"][~seen], table["fy"][~seen], marker="x", color="black", s=40, label="not detected")
    ax.set_xlim(-0.03, 0.53)
    ax.set_ylim(-0.53, 0.53)
    ax.set_aspect("equal")
    ax.set_xlabel("fx [cycles/px]")
    ax.set_ylabel("fy [cycles/px]")
    ax.set_title(f"{detector}: detection threshold", fontsize=8)
    if (~seen).any():
        ax.legend(fontsize=6, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    ax.figure.colorbar(points, ax=ax, shrink=0.8, label="threshold [grey levels]")


def _radial_curves(ax, table: pd.DataFrame, detectors: list[str]) -> None:
    for k, detector in enumerate(detectors):
        colour = DETECTOR_COLOURS[k % len(DETECTOR_COLOURS)]
        shown = np.isfinite(table[f"threshold_{detector}"]).to_numpy()
        values, low, high = (table[f"threshold_{detector}{s}"].to_numpy()[shown] for s in ("", "_low", "_high"))
        spread = np.stack([values - np.where(low > 0, low, values), high - values])
        ax.errorbar(table["radius"][shown], values, yerr=spread, fmt="o", ms=3, color=colour, alpha=0.6,
                    elinewidth=0.6, label=detector)  # fmt: skip
        thresholds = pd.Series(np.where(shown, table[f"threshold_{detector}"], np.nan))
        median = thresholds.groupby(table["radius"].round(6)).median()
        ax.plot(median.index, median.to_numpy(), color=colour, linewidth=1)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=0.8, label="0.5: rounds away in uint8")
    ax.set_yscale("log")
    ax.set_xlabel("radius [cycles/px]")
    ax.set_ylabel("threshold [grey levels]")
    ax.set_title("threshold by radius (line: median)", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    ax.spines[["top", "right"]].set_visible(False)


def save_limits_figure(table: pd.DataFrame, detectors: list[str], stem: Path) -> list[Path]:
    return save_figure(plot_limits(table, detectors), stem)
