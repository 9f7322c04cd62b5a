"""Figures of an ablation study, drawn from its saved tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.figure import Figure

from ..ablation.tasks import NULL_CONTROL
from ..transforms import transform
from ..transforms.fourier import HighPass, LowPass
from .common import CHANCE_GID, legend_outside, save_figure, subplots

SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
NULL_COLOUR = "#7f7f7f"
#: The real-vs-real control's task and variant (old folders' "null" rows are renamed when read:
#: ``ablation.result.read_table``).
NULL_NAMES = (NULL_CONTROL,)


def main_task(summary: pd.DataFrame) -> str:
    return "binary" if (summary["task"] == "binary").any() else "kway"


def pair_tasks(summary: pd.DataFrame) -> list[str]:
    """The pairwise tasks of a K-way study (``pair:a|b``), in study order."""
    return [t for t in dict.fromkeys(summary["task"]) if str(t).startswith("pair:")]


#: Bars on one row of the accuracy figure at most: more variants wrap onto further rows, so
#: the figure stays a page wide (11 in) and every bar keeps its width.
BARS_PER_ROW = 14
#: Width of one bar slot and of the margins beside them, inches.
SLOT_INCHES, MARGIN_INCHES, LEGEND_INCHES = 0.55, 1.5, 1.6


def plot_accuracy_bars(summary: pd.DataFrame, table: pd.DataFrame, ax=None, task: str | None = None) -> Figure:
    """Bars of mean accuracy per variant (one colour per mode and recipe) with Wilson
    intervals, each seed as a dot, the linear probe as a cross, the real-vs-real control in
    grey, and one chance line per task at that task's chance, across that task's bars.
    ``task`` defaults to the main task (``binary`` or ``kway``, drawn with the control);
    a pairwise task (``pair:a|b``) is drawn alone. Without ``ax``, variants beyond
    ``BARS_PER_ROW`` bars wrap onto further rows (one panel each, same y scale)."""
    task = task or main_task(summary)
    with_null = task in ("binary", "kway")
    rows = summary[(summary["task"] == task) | (summary["task"].isin(NULL_NAMES) & with_null)]
    variants = list(dict.fromkeys(rows["variant"]))
    main_rows = rows[rows["task"] == task]
    series = list(dict.fromkeys(zip(main_rows["mode"], main_rows["recipe"])))
    if ax is not None:
        _draw_bars(ax, rows, table, variants, series, task)
        _furnish(ax, rows, series, task, legend=True, title=True)
        return ax.figure
    per_row = max(1, BARS_PER_ROW // len(series))
    n_rows = math.ceil(len(variants) / per_row)
    per_row = math.ceil(len(variants) / n_rows)  # balanced rows
    width = max(3.5, SLOT_INCHES * per_row * len(series) + MARGIN_INCHES) + LEGEND_INCHES
    fig, axes = subplots(n_rows, 1, figsize=(width, 3.2 + 2.6 * (n_rows - 1)), squeeze=False)
    for k, panel in enumerate(axes[:, 0]):
        chunk = variants[k * per_row : (k + 1) * per_row]
        _draw_bars(panel, rows, table, chunk, series, task)
        panel.set_xlim(-0.6, per_row - 0.4)  # equal bar widths in every row
        _furnish(panel, rows, series, task, legend=k == 0, title=k == 0)
    fig.tight_layout()
    return fig


def _draw_bars(ax, rows: pd.DataFrame, table: pd.DataFrame, variants: list[str], series: list, task: str) -> None:
    """The bars, intervals, seeds, linear probe and chance lines of ``variants`` on ``ax``."""
    width = 0.8 / len(series)
    first_of_recipe = {recipe: j for j, (_, recipe) in reversed(list(enumerate(series)))}
    for j, (run_mode, recipe) in enumerate(series):
        for i, variant in enumerate(variants):
            is_null = variant in NULL_NAMES
            if is_null and first_of_recipe[recipe] != j:
                continue  # one null control per recipe, whatever the modes
            row = rows[(rows["variant"] == variant) & (rows["recipe"] == recipe)]
            row = row[row["mode"] == run_mode] if not is_null else row
            if row.empty:
                continue
            row = row.iloc[0]
            x = i + (j - (len(series) - 1) / 2) * width
            colour = NULL_COLOUR if is_null else SERIES_COLOURS[j % len(SERIES_COLOURS)]
            ax.bar(x, row["accuracy"], width * 0.9, color=colour, alpha=0.85)
            spread = np.clip([[row["accuracy"] - row["ci_low"]], [row["ci_high"] - row["accuracy"]]], 0, None)
            ax.errorbar(x, row["accuracy"], yerr=spread, color="black", capsize=2, linewidth=0.8)  # rounding: >= 0
            seeds = table[(table["task"] == row["task"]) & (table["variant"] == variant)
                          & (table["mode"] == row["mode"]) & (table["recipe"] == recipe)]  # fmt: skip
            ax.scatter(np.full(len(seeds), x), seeds["accuracy"], s=6, color="black", zorder=3)
            ax.scatter([x], [row["linear_accuracy"]], marker="x", s=18, color="#d62728", zorder=4, linewidths=1)
    for own_task, style in _chance_styles(rows, task):
        chance = float(rows.loc[rows["task"] == own_task, "chance"].iloc[0])
        spots = [i for i, v in enumerate(variants) if (rows[rows["variant"] == v]["task"] == own_task).any()]
        if spots:
            ax.hlines([chance] * len(spots), [i - 0.45 for i in spots], [i + 0.45 for i in spots], color="black",
                      linestyle=style, linewidth=0.9, zorder=5, gid=f"{CHANCE_GID}:{own_task}")  # fmt: skip
    ax.set_xticks(range(len(variants)), variants, rotation=35, ha="right", fontsize=7)
    ax.set_xlim(-0.6, len(variants) - 0.4)


def _chance_styles(rows: pd.DataFrame, task: str) -> list[tuple[str, str]]:
    return [(task, "--"), *((t, ":") for t in dict.fromkeys(rows["task"]) if t != task)]


def _furnish(ax, rows: pd.DataFrame, series: list, task: str, legend: bool, title: bool) -> None:
    """Axis labels and limits; the legend (beside the axes) and title where asked."""
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.0, 1.02)  # bars start at zero: their lengths compare
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(f"{task}: accuracy per variant (95% Wilson interval, dots = seeds)", fontsize=8)
    if not legend:
        return
    several_recipes = len({r for _, r in series}) > 1
    labels = [f"{r}, {m}" if several_recipes else m for m, r in series]
    handles = [Rectangle((0, 0), 1, 1, color=SERIES_COLOURS[k % len(SERIES_COLOURS)]) for k in range(len(series))]
    handles.append(Line2D([], [], marker="x", color="#d62728", linestyle="none", markersize=5))
    labels.append("linear probe")
    for own_task, style in _chance_styles(rows, task):
        chance = float(rows.loc[rows["task"] == own_task, "chance"].iloc[0])
        handles.append(Line2D([], [], color="black", linestyle=style, linewidth=0.9))
        labels.append(f"chance, {NULL_CONTROL if own_task in NULL_NAMES else own_task} ({chance:.2g})")
    legend_outside(ax, handles, labels)


def plot_pairwise(summary: pd.DataFrame, table: pd.DataFrame) -> Figure | None:
    """One panel per pair of sets of a K-way study (None without pairwise tasks)."""
    pairs = pair_tasks(summary)
    if not pairs:
        return None
    first = summary[summary["task"] == pairs[0]]
    slots = first["variant"].nunique() * len(set(zip(first["mode"], first["recipe"])))
    width = min(11.0, max(3.5, SLOT_INCHES * slots + MARGIN_INCHES) + LEGEND_INCHES)  # a page wide at most
    columns = 2 if len(pairs) > 3 and 2 * width <= 11.0 else 1  # K = 4 gives 6 pairs: two columns keep a page's height
    rows = math.ceil(len(pairs) / columns)
    fig, axes = subplots(rows, columns, figsize=(width * columns, 3.0 * rows), squeeze=False)
    for ax, pair in zip(axes.ravel(), pairs):
        plot_accuracy_bars(summary, table, ax=ax, task=pair)
    for ax in axes.ravel()[len(pairs):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def cutoff_sweeps(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows of the main task whose variant is a plain low- or high-pass, with its cutoff."""
    rows = []
    for _, row in summary[summary["task"] == main_task(summary)].iterrows():
        t = transform(row["variant"])
        if isinstance(t, (LowPass, HighPass)) and t.angle is None:
            rows.append({**row.to_dict(), "kind": t.name, "window": t.window, "cutoff": t.cutoff})
    return pd.DataFrame(rows)


def plot_cutoff_sweep(summary: pd.DataFrame, ax=None) -> Figure | None:
    """Accuracy against cutoff for low-pass and high-pass on one axis (None without a sweep:
    two cutoffs of one kind). A kind with a lone cutoff shows as a point; the unfiltered
    accuracy (``original``) is a dashed line, chance a dotted one."""
    sweeps = cutoff_sweeps(summary)
    if sweeps.empty or sweeps.groupby(["kind", "window", "mode", "recipe"]).size().max() < 2:
        return None
    if ax is None:
        fig, ax = subplots(figsize=(5.8, 3.2))
    else:
        fig = ax.figure
    styles = {"lowpass": ("#2ca02c", "o"), "highpass": ("#d62728", "s")}
    recipes = list(dict.fromkeys(sweeps["recipe"]))
    for (kind, window, run_mode, recipe), group in sweeps.groupby(["kind", "window", "mode", "recipe"], sort=False):
        group = group.sort_values("cutoff")
        colour, marker = styles[kind]
        line = ("-", "--", "-.")[recipes.index(recipe) % 3] if run_mode == "retrain" else ":"
        details = [window, *([recipe] if len(recipes) > 1 else []), *([run_mode] if run_mode != "retrain" else [])]
        label = f"{kind} ({', '.join(details)})"
        ax.plot(group["cutoff"], group["accuracy"], line, marker=marker, color=colour, label=label, markersize=4)
        ax.fill_between(group["cutoff"], group["ci_low"], group["ci_high"], color=colour, alpha=0.15, linewidth=0)
    task = main_task(summary)
    original = summary[(summary["task"] == task) & (summary["variant"] == "original")]
    original = original.drop_duplicates("recipe")  # with mode="both", one line per recipe, not per mode
    for recipe, row in zip(original["recipe"], original["accuracy"]):
        label = "original (unfiltered)" + (f", {recipe}" if len(recipes) > 1 else "")
        ax.axhline(row, color="0.3", linestyle="--", linewidth=0.8, label=label)
    chance = float(sweeps["chance"].iloc[0])
    ax.axhline(
        chance, color="black", linestyle=":", linewidth=0.9, label=f"chance ({chance:.2g})", gid=f"{CHANCE_GID}:{task}"
    )
    ax.set_xlabel("cutoff (cycles/pixel)")
    ax.set_ylabel("test accuracy")
    ax.set_xlim(0, max(0.5, float(sweeps["cutoff"].max()) + 0.02))
    ax.set_ylim(0.0, 1.02)
    legend_outside(ax)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("accuracy against cutoff: which frequencies carry the difference", fontsize=8)
    fig.tight_layout()
    return fig


def save_ablation_figures(table: pd.DataFrame, summary: pd.DataFrame, folder: Path) -> list[Path]:
    """``ablation.png/.pdf``; ``cutoff.png/.pdf`` when the variants sweep a cutoff;
    ``pairwise.png/.pdf`` for the pairwise tasks of a K-way study."""
    paths = save_figure(plot_accuracy_bars(summary, table), folder / "ablation")
    for stem, fig in (("cutoff", plot_cutoff_sweep(summary)), ("pairwise", plot_pairwise(summary, table))):
        if fig is not None:
            paths += save_figure(fig, folder / stem)
    return paths
