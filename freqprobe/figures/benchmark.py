"""Figures of the model-vs-human benchmark's aggregates, drawn from saved tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .common import subplots

LABELS = {
    "ood_accuracy": "OOD accuracy ↑",
    "accuracy_difference": "accuracy difference ↓",
    "observed_consistency": "observed consistency ↑",
    "error_consistency": "error consistency ↑",
    "entropy": "response entropy [bits]",
}
HUMANS = "humans"


def _bars(ax, names: list[str], values: np.ndarray, metric: str) -> None:
    colours = ["#a51e37" if name == HUMANS else "#4c72b0" for name in names]
    ax.bar(range(len(names)), values, color=colours)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
    ax.set_title(LABELS[metric], fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)


def plot_benchmark(summary: pd.DataFrame) -> Figure:
    """One panel per aggregate, observers side by side (humans in red), as model-vs-human's bar plots."""
    metrics = list(LABELS)
    fig, axes = subplots(1, len(metrics), figsize=(2.6 * len(metrics), 3.0), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        _bars(ax, list(summary["observer"]), summary[metric].to_numpy(dtype=float), metric)
    fig.tight_layout()
    return fig


def plot_observer(table: pd.DataFrame, confusion: pd.DataFrame, observer: str, conditions: pd.DataFrame) -> Figure:
    """One model: each aggregate per dataset beside the humans', and its confusion matrix
    pooled over the kept (out-of-distribution) conditions of all datasets."""
    metrics = list(LABELS)
    fig, axes = subplots(1, len(metrics) + 1, figsize=(2.9 * (len(metrics) + 1), 3.2), squeeze=False)
    datasets = list(dict.fromkeys(table["dataset"]))
    for ax, metric in zip(axes[0], metrics):
        for k, who in enumerate((observer, HUMANS)):
            own = table[table["observer"] == who].set_index("dataset").reindex(datasets)[metric].to_numpy(dtype=float)
            ax.bar(np.arange(len(datasets)) + (k - 0.5) * 0.4, own, width=0.4, label=who,
                   color="#4c72b0" if who == observer else "#a51e37")  # fmt: skip
        ax.set_xticks(range(len(datasets)), datasets, rotation=60, ha="right", fontsize=6)
        ax.set_title(LABELS[metric], fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0, 0].legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.08), ncol=2)
    kept = conditions[~conditions["excluded"].astype(str).str.lower().eq("true")][["observer", "dataset", "condition"]]
    own = confusion[confusion["observer"] == observer].merge(kept)
    matrix = own.pivot_table(index="response", columns="category", values="count", aggfunc="sum", fill_value=0)
    categories = sorted(set(matrix.columns))
    matrix = matrix.reindex(index=[c for c in ["na", *categories] if c in matrix.index or c != "na"],
                            columns=categories, fill_value=0)  # fmt: skip
    percent = 100 * matrix / matrix.sum(axis=0).replace(0, np.nan)
    ax = axes[0, -1]
    image = ax.imshow(percent.to_numpy(dtype=float), cmap="Reds", vmin=0, vmax=100)
    ax.set_xticks(range(len(categories)), categories, rotation=90, fontsize=5)
    ax.set_yticks(range(len(percent.index)), percent.index, fontsize=5)
    ax.set_xlabel("presented category", fontsize=7)
    ax.set_ylabel("decision", fontsize=7)
    ax.set_title(f"confusion of {observer} [%]", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.7)
    fig.suptitle(f"{observer} against humans (model-vs-human aggregates)", fontsize=10)
    fig.tight_layout()
    return fig
