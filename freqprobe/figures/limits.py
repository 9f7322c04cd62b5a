"""The audiogram's figure: for grid probes a threshold map over the half plane per detector
and the radial curves; for the colour and JPEG probes each detector's bracket."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .common import SEQUENTIAL_CMAP, save_figure, subplots

DETECTOR_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


#: Panels per row: maps of three detectors and the radial curve stay within a page's width.
COLUMNS = 3


#: Radius offset between detectors' points in the radial panel, so equal thresholds stay visible.
DODGE = 0.006
#: Plain numbers (0.5, 2, 10) on logarithmic axes, instead of powers of ten.
PLAIN = FuncFormatter(lambda value, _: f"{value:g}")
#: ...and on the minor ticks only at 2 and 5 times a power of ten, so labels do not crowd.
PLAIN_MINOR = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:.0e}"[0] in "25" else "")


def _plain_log_ticks(axis) -> None:
    axis.set_major_formatter(PLAIN)
    axis.set_minor_formatter(PLAIN_MINOR)


#: The axis label of a grid probe's thresholds.
UNITS = {"sinusoid": "threshold [grey levels]", "noise": "threshold [grey levels RMS]"}


def plot_limits(table: pd.DataFrame, detectors: list[str], probe: str = "sinusoid") -> Figure:
    """Grid probes (sinusoid, noise): ``plot_grid``; the colour cast and JPEG: ``plot_bracket``."""
    if probe in UNITS:
        return plot_grid(table, detectors, probe)
    return plot_bracket(table, detectors, probe)


def plot_grid(table: pd.DataFrame, detectors: list[str], probe: str) -> Figure:
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
        _threshold_map(ax, table, detector, norm, UNITS[probe])
    _radial_curves(axes[len(detectors)], table, detectors, UNITS[probe], floor=probe == "sinusoid")
    fig.tight_layout()
    return fig


def _threshold_map(ax, table: pd.DataFrame, detector: str, norm: LogNorm, unit: str) -> None:
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
    _plain_log_ticks(ax.figure.colorbar(points, ax=ax, shrink=0.8, label=unit).ax.yaxis)


def _radial_curves(ax, table: pd.DataFrame, detectors: list[str], unit: str, floor: bool) -> None:
    for k, detector in enumerate(detectors):
        colour = DETECTOR_COLOURS[k % len(DETECTOR_COLOURS)]
        shown = np.isfinite(table[f"threshold_{detector}"]).to_numpy()
        values, low, high = (table[f"threshold_{detector}{s}"].to_numpy()[shown] for s in ("", "_low", "_high"))
        spread = np.stack([values - np.where(low > 0, low, values), high - values])
        offset = (k - (len(detectors) - 1) / 2) * DODGE  # side by side where the thresholds are equal
        ax.errorbar(table["radius"][shown] + offset, values, yerr=spread, fmt="o", ms=3, color=colour, alpha=0.6,
                    elinewidth=0.6, label=detector)  # fmt: skip
        thresholds = pd.Series(np.where(shown, table[f"threshold_{detector}"], np.nan))
        median = thresholds.groupby(table["radius"].round(6)).median()
        ax.plot(median.index, median.to_numpy(), color=colour, linewidth=1)
    if floor:
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=0.8, label="0.5: rounds away in uint8")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("radius [cycles/px]")
    ax.set_ylabel(unit)
    ax.set_title("threshold by radius (line: median; points side by side)", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    ax.spines[["top", "right"]].set_visible(False)


def plot_bracket(table: pd.DataFrame, detectors: list[str], probe: str) -> Figure:
    """One row per detector: the bracket of its threshold (a bar from the strength not
    detected to the one detected) and the threshold; colour in grey levels (log axis),
    JPEG in quality (detected at the bar's left end and below, not at its right end)."""
    fig, ax = subplots(figsize=(4.2, 0.9 + 0.45 * len(detectors)))
    row = table.iloc[0]
    for k, detector in enumerate(detectors):
        colour = DETECTOR_COLOURS[k % len(DETECTOR_COLOURS)]
        if probe == "jpeg":
            detected, missed = row[f"quality_{detector}"], row[f"quality_{detector}_missed"]
            left, right, mark = detected, (100 if np.isnan(missed) else missed), detected
        else:
            low, right, mark = row[f"threshold_{detector}_low"], row[f"threshold_{detector}_high"], row[f"threshold_{detector}"]
            left = low if low > 0 else mark  # detected at the smallest tested: no lower end
        if not np.isfinite(mark):
            ax.annotate("not detected", (0.02, k), xycoords=("axes fraction", "data"), va="center", fontsize=7)
            continue
        ax.plot([left, right], [k, k], color=colour, linewidth=4, alpha=0.4, solid_capstyle="butt")
        ax.plot([left, right], [k, k], "|", color=colour, ms=10)  # the ends, visible on a short bar
        ax.plot([mark], [k], "o", color=colour, ms=5)
    ax.set_yticks(range(len(detectors)), detectors)
    ax.set_ylim(-0.6, len(detectors) - 0.4)
    if probe == "jpeg":
        ax.set_xlim(0, 100)
        ax.set_xlabel("JPEG quality (dot: highest detected; bar: up to the lowest missed)")
    else:
        ax.set_xscale("log")
        _plain_log_ticks(ax.xaxis)
        ax.set_xlabel("colour cast [grey levels] (dot: threshold; bar: bracket)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def save_limits_figure(table: pd.DataFrame, detectors: list[str], stem: Path, probe: str = "sinusoid") -> list[Path]:
    return save_figure(plot_limits(table, detectors, probe), stem)
