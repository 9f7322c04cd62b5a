"""Figures of a probe, drawn from its saved tables: robustness curves, shape bias and the
error-consistency matrix."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..probe.distortions import DISTORTIONS
from ..transforms import REGISTRY
from .common import CHANCE_GID, DIVERGING_CMAP, labelled_colorbar, legend_outside, subplots


def _grid(n: int, width: float, height: float, columns: int = 4) -> tuple[Figure, np.ndarray]:
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig, axes = subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def plot_curves(curves: pd.DataFrame, chance: float | None = None) -> Figure:
    """Accuracy per condition with 95 % intervals, one panel per distortion, observers as
    lines. Levels sit to scale (a log axis where they span 20x or more), mild on the left,
    strong on the right in every panel (the axis is reversed where a smaller level is the
    stronger distortion); a level that is no finite number (``inf``) sits one step beyond
    the mild end. The undistorted images (``original``) are a dashed line per observer, and
    chance a dotted line."""
    reference = curves[curves["distortion"] == "original"].set_index("model")["accuracy"]
    distortions = [d for d in dict.fromkeys(curves["distortion"]) if d != "original"] or ["original"]
    fig, axes = _grid(len(distortions), 3.0, 2.6)
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    observers = list(dict.fromkeys(curves["model"]))
    for ax, distortion in zip(axes, distortions):
        rows = curves[curves["distortion"] == distortion]
        labels = list(dict.fromkeys(rows["condition"]))
        level_of = dict(zip(rows["condition"], rows["level"]))
        position, log = level_positions([level_of[label] for label in labels], _descending(distortion))
        place = dict(zip(labels, position))
        for k, observer in enumerate(observers):
            own = rows[rows["model"] == observer].assign(x=lambda t: t["condition"].map(place)).sort_values("x")
            colour = colours[k % len(colours)]
            ax.plot(own["x"], own["accuracy"], marker="o", ms=3.5, color=colour, label=observer)
            ax.fill_between(own["x"], own["ci_low"], own["ci_high"], color=colour, alpha=0.18, lw=0)
            if observer in reference and distortion != "original":
                ax.axhline(reference[observer], color=colour, ls="--", lw=0.8, gid="original")
        if chance is not None:
            ax.axhline(chance, color="grey", ls=":", lw=1, gid=f"{CHANCE_GID}:probe")
        if log:
            ax.set_xscale("log")
            ax.minorticks_off()
        ticks = [_tick_label(distortion, label, level_of[label]) for label in labels]
        longest = max(map(len, ticks))
        tilted = longest > 4 or _crowded(position, log, least=0.035 * longest)  # ~ a 7-pt label's share of a panel
        ax.set_xticks(position, ticks, rotation=45 if tilted else 0, ha="right" if tilted else "center", fontsize=7)
        if _descending(distortion):
            ax.invert_xaxis()
        ax.set_xlabel(_axis_label(distortion) + " (mild to strong)", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(distortion, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("accuracy")
    handles = [Line2D([], [], color=colours[k % len(colours)], marker="o", ms=3.5) for k in range(len(observers))]
    labels = list(observers)
    if len(reference):
        handles.append(Line2D([], [], color="black", ls="--", lw=0.8))
        labels.append("undistorted (original)")
    if chance is not None:
        handles.append(Line2D([], [], color="grey", ls=":", lw=1))
        labels.append(f"chance ({chance:.2g})")
    legend_outside(axes[min(len(distortions), 4) - 1], handles, labels)  # beside the first row's last panel
    fig.tight_layout()
    return fig


def level_positions(levels: list[float], descending: bool) -> tuple[np.ndarray, bool]:
    """x positions of levels, to scale, and whether the axis is logarithmic (all levels
    positive, spanning 20x or more). Non-finite levels go one step beyond the mild end."""
    values = np.asarray(levels, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.arange(len(values), dtype=float), False
    log = bool(finite.min() > 0 and finite.max() / finite.min() >= 20)
    spread = np.log(finite) if log else finite
    step = (spread.max() - spread.min()) / max(len(finite) - 1, 1) or 1.0
    mild = spread.max() + step if descending else spread.min() - step  # where "inf" of a descending kind sits
    beyond = np.exp(mild) if log else mild
    return np.where(np.isfinite(values), values, beyond), log


def _crowded(position: np.ndarray, log: bool, least: float) -> bool:
    """Whether two ticks sit closer than ``least`` of the axis span (their labels would touch)."""
    spread = np.sort(np.log(position) if log else position)
    span = spread[-1] - spread[0]
    return bool(len(spread) > 1 and span > 0 and np.diff(spread).min() < least * span)


#: Filter-bank transforms whose effect grows as their level falls.
DESCENDING_TRANSFORMS = ("lowpass", "jpeg")


def _descending(distortion: str) -> bool:
    if distortion in DISTORTIONS:
        return DISTORTIONS[distortion].descending
    return distortion.split(":")[0] in DESCENDING_TRANSFORMS


def _axis_label(distortion: str) -> str:
    if distortion in DISTORTIONS:
        return DISTORTIONS[distortion].xlabel
    name = distortion.split(":")[0]
    positional = REGISTRY[name].positional if name in REGISTRY else ()
    return f"{name} {positional[0]}" if positional else distortion


def _tick_label(distortion: str, label: str, level: float) -> str:
    """A filter-bank spec is shown by its level (``lowpass:0.1`` -> ``0.1``)."""
    return f"{level:g}" if distortion not in DISTORTIONS and label.startswith(distortion.split(":")[0] + ":") else label


def plot_shape_bias(table: pd.DataFrame) -> Figure:
    """Per shape class, the fraction of shape decisions among shape + texture decisions
    (markers, one colour per observer); the overall bias as a vertical line. One panel
    per distortion and condition."""
    groups = list(dict.fromkeys(zip(table["distortion"], table["condition"])))
    fig, axes = _grid(len(groups), 3.6, 0.3 * table["class"].nunique() + 1.4, columns=3)
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (distortion, condition) in zip(axes, groups):
        rows = table[(table["distortion"] == distortion) & (table["condition"] == condition)]
        classes = sorted(set(rows["class"]) - {"all"})
        for k, observer in enumerate(dict.fromkeys(rows["observer"])):
            own = rows[rows["observer"] == observer].set_index("class")
            colour = colours[k % len(colours)]
            ax.scatter(own["shape_bias"].reindex(classes), range(len(classes)), color=colour, s=22, zorder=3,
                       label=observer)  # fmt: skip
            ax.axvline(own.loc["all", "shape_bias"], color=colour, lw=1.2)
        ax.set_yticks(range(len(classes)), classes, fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.5, len(classes) - 0.5)
        ax.set_xlabel("fraction of shape decisions", fontsize=8)
        ax.secondary_xaxis("top", functions=(lambda x: 1 - x, lambda x: 1 - x)).set_xlabel(
            "fraction of texture decisions", fontsize=8
        )
        untitled = distortion == "original" or (distortion, condition) == ("all", "all")
        ax.set_title("" if untitled else f"{distortion} {condition}", fontsize=8)
    legend_outside(axes[min(len(groups), 3) - 1])
    fig.tight_layout()
    return fig


def plot_consistency(table: pd.DataFrame) -> Figure:
    """Error consistency (kappa) of every pair of observers, pooled over each distortion's
    conditions, one matrix per distortion; cells show kappa over the observed consistency."""
    pooled = table[table["condition"] == "all"]
    single = table[~table["distortion"].isin(pooled["distortion"])]
    rows = pd.concat([pooled, single])
    distortions = list(dict.fromkeys(table["distortion"]))
    observers = list(dict.fromkeys([*table["observer_a"], *table["observer_b"]]))
    n = len(observers)
    fig, axes = _grid(len(distortions), 0.7 * n + 1.6, 0.7 * n + 1.0)
    for ax, distortion in zip(axes, distortions):
        kappa, observed = np.full((n, n), np.nan), np.full((n, n), np.nan)
        for _, row in rows[rows["distortion"] == distortion].iterrows():
            i, j = observers.index(row["observer_a"]), observers.index(row["observer_b"])
            kappa[i, j] = kappa[j, i] = row["kappa"]
            observed[i, j] = observed[j, i] = row["observed"]
        image = ax.imshow(kappa, cmap=DIVERGING_CMAP, vmin=-1, vmax=1)
        for i in range(n):
            for j in range(n):
                if i != j and not np.isnan(observed[i, j]):
                    shown = "undef." if np.isnan(kappa[i, j]) else f"{kappa[i, j]:.2f}"
                    ax.text(j, i, f"{shown}\n{observed[i, j]:.2f}", ha="center", va="center", fontsize=6)
        ax.set_xticks(range(n), observers, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(n), observers, fontsize=7)
        ax.set_title(distortion, fontsize=9)
    labelled_colorbar(fig, image, list(axes[: len(distortions)]), "error consistency kappa (cells: kappa, observed)", shrink=0.7)
    return fig
