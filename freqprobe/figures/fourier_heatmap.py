"""Yin et al.'s Fourier heat map of a K-class classifier, drawn from its saved maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from .attribution import plot_fourier_plane
from .common import subplots


def plot_fourier_heatmap(maps: np.ndarray, clean: np.ndarray, top_k: Sequence[int], eps: float) -> Figure:
    """One panel per ``k``: the top-k error rate per basis direction (DC in the centre)."""
    fig, axes = subplots(1, len(top_k), figsize=(3.6 * len(top_k), 3.2), squeeze=False)
    for ax, k, plane, base in zip(axes[0], top_k, maps, clean):
        title = f"top-{k} error, basis image of norm {eps:g}\n(unperturbed {base:.3f})"
        plot_fourier_plane(plane, title, ax, log=False, label="error rate")
    fig.tight_layout()
    return fig
