"""Grids of images (transform galleries, set previews)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from .common import subplots


def display_range(image: torch.Tensor) -> np.ndarray:
    """A float ``(C, H, W)`` image as ``(H, W, C)`` for display.

    Images inside ``[0, 1]`` are shown as they are; others (high-pass, phase-only ...) are
    stretched from their 0.5th to 99.5th percentile, since transforms do not clip.
    """
    array = image.detach().float().cpu().permute(1, 2, 0).numpy()
    if array.min() >= 0.0 and array.max() <= 1.0:
        return array
    lo, hi = np.percentile(array, [0.5, 99.5])
    return np.clip((array - lo) / max(hi - lo, 1e-12), 0.0, 1.0)


def wrap_spec(text: str, width: int = 26) -> str:
    """Break a long spec string after its commas or pluses so it fits above a cell."""
    lines, line = [], ""
    for piece in text.replace("+", "+\0").replace(",", ",\0").split("\0"):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    return "\n".join([*lines, line])


def image_grid(
    rows: Sequence[Sequence[torch.Tensor]],
    titles: Sequence[Sequence[str]] = (),
    row_labels: Sequence[str] = (),
    cell_inches: float = 1.4,
) -> Figure:
    """A grid of float ``(C, H, W)`` images, with a title per cell and a label per row."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = subplots(
        n_rows, n_cols, figsize=(cell_inches * n_cols, cell_inches * n_rows + 0.3), squeeze=False
    )
    for r, row in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(row):
                ax.imshow(display_range(row[c]), interpolation="nearest")
            if r < len(titles) and c < len(titles[r]):
                ax.set_title(wrap_spec(titles[r][c]), fontsize=6)
            if c == 0 and r < len(row_labels):
                ax.set_ylabel(row_labels[r], fontsize=7)
    fig.tight_layout(pad=0.3)
    return fig
