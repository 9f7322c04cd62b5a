"""Figures of the experiments (compare, drift, augment vs replace), drawn from saved tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .ablation import NULL_COLOUR, SERIES_COLOURS
from .common import save_figure, subplots

CONTROL = "real-vs-real"


def plot_matrix(table: pd.DataFrame, names: list[str], linkage: np.ndarray, variant: str) -> Figure:
    """Accuracy of every pair as a heat map, rows and columns in the dendrogram's leaf order
    (drawn above it); the diagonal holds the null control where there is one."""
    from scipy.cluster.hierarchy import dendrogram

    k = len(names)
    fig = Figure(figsize=(1.2 + 0.55 * k, 1.9 + 0.55 * k))
    tree_ax, heat_ax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, max(k, 2)]})
    tree = dendrogram(linkage, labels=names, ax=tree_ax, color_threshold=0, above_threshold_color="#444444",
                      no_labels=True)  # fmt: skip
    tree_ax.set_axis_off()
    order = tree["ivl"]
    accuracy = np.full((k, k), np.nan)
    where = {name: i for i, name in enumerate(order)}
    rows = table[table["variant"] == variant]
    for row in rows.itertuples():
        accuracy[where[row.set_a], where[row.set_b]] = accuracy[where[row.set_b], where[row.set_a]] = row.accuracy
    for row in table[table["variant"] == CONTROL].itertuples():
        accuracy[where[row.set_a], where[row.set_a]] = row.accuracy
    chance = float(rows["chance"].iloc[0]) if len(rows) else 0.5
    image = heat_ax.imshow(accuracy, vmin=chance, vmax=1.0, cmap="viridis", aspect="auto")  # columns under the leaves
    for i in range(k):
        for j in range(k):
            if np.isfinite(accuracy[i, j]):
                colour = "white" if accuracy[i, j] < chance + 0.6 * (1 - chance) else "black"
                heat_ax.text(j, i, f"{accuracy[i, j]:.2f}", ha="center", va="center", fontsize=7, color=colour)
    heat_ax.set_xticks(range(k), order, rotation=45, ha="right", fontsize=8)
    heat_ax.set_yticks(range(k), order, fontsize=8)
    heat_ax.set_title(f"pairwise accuracy ({variant}; diagonal: {CONTROL})", fontsize=8)
    fig.colorbar(image, cax=heat_ax.inset_axes([1.03, 0, 0.04, 1]), label="accuracy")  # the heat map keeps its width
    tree_ax.set_xlim(heat_ax.get_xlim()[0] * 10 + 5, heat_ax.get_xlim()[1] * 10 + 5)  # leaves at 5, 15, … in scipy's units
    return fig


def save_matrix_figure(table: pd.DataFrame, names: list[str], linkage: np.ndarray, stem: Path) -> list[Path]:
    variants = [v for v in dict.fromkeys(table["variant"]) if v != CONTROL]
    return save_figure(plot_matrix(table, names, linkage, variants[0]), stem)


def plot_drift(table: pd.DataFrame, ax=None) -> Figure:
    """Accuracy per generation with intervals: against real (solid) and against the previous
    generation (dashed), one colour per variant; the null control as a grey diamond."""
    if ax is None:
        fig, ax = subplots(figsize=(4.2, 3.0))
    else:
        fig = ax.figure
    variants = [v for v in dict.fromkeys(table["variant"]) if v != CONTROL]
    for k, variant in enumerate(variants):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        for reference, style in (("real", "-"), ("previous", "--")):
            rows = table[(table["variant"] == variant) & (table["reference"] == reference)]
            if rows.empty:
                continue
            spread = np.clip([rows["accuracy"] - rows["ci_low"], rows["ci_high"] - rows["accuracy"]], 0, None)
            ax.errorbar(rows["position"], rows["accuracy"], yerr=spread, color=colour, linestyle=style, marker="o",
                        markersize=3, capsize=2, linewidth=1, label=f"{variant} vs {reference}")  # fmt: skip
    null = table[table["variant"] == CONTROL]
    for row in null.itertuples():
        ax.errorbar([row.position], [row.accuracy], yerr=[[row.accuracy - row.ci_low], [row.ci_high - row.accuracy]],
                    color=NULL_COLOUR, marker="D", markersize=4, capsize=2, label=CONTROL)  # fmt: skip
    chance = float(table["chance"].iloc[0])
    ax.axhline(chance, color=NULL_COLOUR, linewidth=0.8, linestyle=":")
    ticks = table.drop_duplicates("position").sort_values("position")
    ax.set_xticks(ticks["position"], ticks["generation"], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(min(chance - 0.05, float(table["ci_low"].min()) - 0.02), 1.02)
    ax.set_xlabel("generation")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def save_drift_figure(table: pd.DataFrame, stem: Path) -> list[Path]:
    return save_figure(plot_drift(table), stem)


def plot_augment(curves: dict[str, pd.DataFrame], table: pd.DataFrame, ax=None) -> Figure:
    """Accuracy on the real test set against the ratio of generated images, with intervals
    and seeds as dots: augment (added) and replace (in place of real; 1 = generated only)."""
    if ax is None:
        fig, ax = subplots(figsize=(4.2, 3.0))
    else:
        fig = ax.figure
    for k, (mode, rows) in enumerate(curves.items()):
        colour = SERIES_COLOURS[k]
        spread = np.clip([rows["accuracy"] - rows["ci_low"], rows["ci_high"] - rows["accuracy"]], 0, None)
        ax.errorbar(rows["ratio"], rows["accuracy"], yerr=spread, color=colour, marker="o", markersize=3, capsize=2,
                    linewidth=1, label=mode)  # fmt: skip
        modes = ["real", mode] if mode == "augment" else ["real", "replace", "generated"]
        seeds = table[table["mode"].isin(modes[1:])]
        ax.scatter(seeds["ratio"], seeds["accuracy"], s=5, color=colour, alpha=0.6, zorder=3)
    real = table[table["mode"] == "real"]
    ax.scatter(real["ratio"], real["accuracy"], s=5, color="black", zorder=3)
    ax.axhline(float(table["chance"].iloc[0]), color=NULL_COLOUR, linewidth=0.8, linestyle=":", label="chance")
    ax.set_xlabel("generated images per real image (augment) / fraction replaced")
    ax.set_ylabel("accuracy on the real test set")
    ax.legend(fontsize=7, frameon=False)
    return fig


def save_augment_figure(curves: dict[str, pd.DataFrame], table: pd.DataFrame, stem: Path) -> list[Path]:
    return save_figure(plot_augment(curves, table), stem)


def plot_guidance(samples: pd.DataFrame, modes: pd.DataFrame) -> Figure:
    """Left: the first coordinate of real, generated and guided samples (histograms).
    Right: the fraction of samples in the right-hand mode against the guidance scale,
    measured (dots) and in closed form (line)."""
    fig, (left, right) = subplots(1, 2, figsize=(7.5, 2.8))
    fig.subplots_adjust(wspace=0.35)
    bins = np.linspace(-4, 4, 61)
    real = samples[samples["source"] == "real"]
    left.hist(real["x1"], bins=bins, color=NULL_COLOUR, alpha=0.5, label="real")
    for k, scale in enumerate(s for s in (0.0, 1.0, 2.0) if s in set(samples["scale"])):
        rows = samples[(samples["source"] != "real") & (samples["scale"] == scale)]
        label = "generated" if scale == 0 else f"guided, scale {scale:g}"
        left.hist(rows["x1"], bins=bins, histtype="step", color=SERIES_COLOURS[k], linewidth=1.2, label=label)
    left.set_xlabel("x1")
    left.set_ylabel("samples")
    left.legend(fontsize=7, frameon=False)
    right.plot(modes["scale"], modes["closed_form"], color="black", linewidth=1, label="closed form")
    right.scatter(modes["scale"], modes["fraction_right"], color=SERIES_COLOURS[0], s=14, zorder=3, label="sampled")
    right.axhline(0.8, color=NULL_COLOUR, linestyle=":", linewidth=0.8, label="real")
    right.set_xlabel("guidance scale")
    right.set_ylabel("fraction in the right mode")
    right.legend(fontsize=7, frameon=False)
    return fig
