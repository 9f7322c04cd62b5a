"""Figures of an ablation study, drawn from its saved tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.figure import Figure

from ..ablation.tasks import NULL_CONTROL
from ..transforms import transform
from ..transforms.fourier import HighPass, LowPass
from .common import save_figure, subplots

SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
NULL_COLOUR = "#7f7f7f"


def main_task(summary: pd.DataFrame) -> str:
    return "binary" if (summary["task"] == "binary").any() else "kway"


def plot_accuracy_bars(summary: pd.DataFrame, table: pd.DataFrame, ax=None) -> Figure:
    """Bars of mean accuracy per variant (one colour per mode and recipe) with Wilson
    intervals, each seed as a dot, the linear probe as a cross, the null control in grey,
    and the chance level as a line."""
    task = main_task(summary)
    rows = summary[(summary["task"] == task) | (summary["task"] == NULL_CONTROL)]
    variants = list(dict.fromkeys(rows["variant"]))
    main_rows = rows[rows["task"] == task]
    series = list(dict.fromkeys(zip(main_rows["mode"], main_rows["recipe"])))
    several_recipes = len({r for _, r in series}) > 1
    labels = [f"{r}, {m}" if several_recipes else m for m, r in series]
    colours = [SERIES_COLOURS[k % len(SERIES_COLOURS)] for k in range(len(series))]
    if ax is None:
        fig, ax = subplots(figsize=(max(3.5, 0.55 * len(variants) * len(series) + 1.5), 3.2))
    else:
        fig = ax.figure
    width = 0.8 / len(series)
    first_of_recipe = {recipe: j for j, (_, recipe) in reversed(list(enumerate(series)))}
    for j, (run_mode, recipe) in enumerate(series):
        for i, variant in enumerate(variants):
            if variant == NULL_CONTROL and first_of_recipe[recipe] != j:
                continue  # one null control per recipe, whatever the modes
            row = rows[(rows["variant"] == variant) & (rows["recipe"] == recipe)]
            row = row[row["mode"] == run_mode] if variant != NULL_CONTROL else row
            if row.empty:
                continue
            row = row.iloc[0]
            x = i + (j - (len(series) - 1) / 2) * width
            colour = NULL_COLOUR if variant == NULL_CONTROL else colours[j]
            ax.bar(x, row["accuracy"], width * 0.9, color=colour, alpha=0.85)
            spread = np.clip([[row["accuracy"] - row["ci_low"]], [row["ci_high"] - row["accuracy"]]], 0, None)
            ax.errorbar(x, row["accuracy"], yerr=spread, color="black", capsize=2, linewidth=0.8)  # rounding: >= 0
            seeds = table[(table["task"] == row["task"]) & (table["variant"] == variant)
                          & (table["mode"] == row["mode"]) & (table["recipe"] == recipe)]  # fmt: skip
            ax.scatter(np.full(len(seeds), x), seeds["accuracy"], s=6, color="black", zorder=3)
            ax.scatter([x], [row["linear_accuracy"]], marker="x", s=18, color="#d62728", zorder=4, linewidths=1)
            if variant == NULL_CONTROL:  # its own chance (1/2), which differs from a K-way task's
                ax.hlines(row["chance"], x - width / 2, x + width / 2, color="black", linestyle=":", linewidth=1)
    chance = float(main_rows["chance"].iloc[0])
    ax.axhline(chance, color="black", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(variants)), variants, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(min(chance - 0.1, float(rows["ci_low"].min()) - 0.02, float(rows["linear_accuracy"].min()) - 0.02), 1.0)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in colours]
    handles += [
        Line2D([], [], marker="x", color="#d62728", linestyle="none", markersize=5),
        Line2D([], [], color="black", linestyle="--", linewidth=0.8),
    ]
    ax.legend(handles, labels + ["linear probe", f"chance ({chance:.2g})"], fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"{task}: accuracy per variant (95% Wilson interval, dots = seeds)", fontsize=8)
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
    """Accuracy against cutoff for low-pass and high-pass on one axis (None without a sweep)."""
    sweeps = cutoff_sweeps(summary)
    if sweeps.empty or sweeps.groupby(["kind", "window", "mode", "recipe"]).size().max() < 2:
        return None
    if ax is None:
        fig, ax = subplots(figsize=(4.2, 3.2))
    else:
        fig = ax.figure
    styles = {"lowpass": ("#2ca02c", "o"), "highpass": ("#d62728", "s")}
    recipes = list(dict.fromkeys(sweeps["recipe"]))
    for (kind, window, run_mode, recipe), group in sweeps.groupby(["kind", "window", "mode", "recipe"], sort=False):
        if len(group) < 2:
            continue
        group = group.sort_values("cutoff")
        colour, marker = styles[kind]
        line = ("-", "--", "-.")[recipes.index(recipe) % 3] if run_mode == "retrain" else ":"
        details = [window, *([recipe] if len(recipes) > 1 else []), *([run_mode] if run_mode != "retrain" else [])]
        label = f"{kind} ({', '.join(details)})"
        ax.plot(group["cutoff"], group["accuracy"], line, marker=marker, color=colour, label=label, markersize=4)
        ax.fill_between(group["cutoff"], group["ci_low"], group["ci_high"], color=colour, alpha=0.15, linewidth=0)
    chance = float(sweeps["chance"].iloc[0])
    ax.axhline(chance, color="black", linestyle="--", linewidth=0.8, label="chance")
    ax.set_xlabel("cutoff (cycles/pixel)")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("accuracy against cutoff: which frequencies carry the difference", fontsize=8)
    fig.tight_layout()
    return fig


def save_ablation_figures(table: pd.DataFrame, summary: pd.DataFrame, folder: Path) -> list[Path]:
    """``ablation.png/.pdf`` and, when the variants sweep a cutoff, ``cutoff.png/.pdf``."""
    paths = []
    fig = plot_accuracy_bars(summary, table)
    paths += save_figure(fig, folder / "ablation")
    sweep = plot_cutoff_sweep(summary)
    if sweep is not None:
        paths += save_figure(sweep, folder / "cutoff")
    return paths
