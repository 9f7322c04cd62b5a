"""Making figures without pyplot, and saving them as PDF + PNG, atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ..io import atomic_path


def save_figure(fig: Figure, stem: str | os.PathLike, dpi: int = 200) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png``; each appears whole or not at all."""
    paths = []
    for suffix in (".pdf", ".png"):
        final = Path(f"{os.fspath(stem)}{suffix}")  # not with_suffix: "run.v2" keeps its dot
        with atomic_path(final) as partial:
            fig.savefig(partial, format=suffix[1:], dpi=dpi, bbox_inches="tight")
        paths.append(final)
    return paths


def subplots(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None, **kwargs: Any):
    """``plt.subplots`` without pyplot: the figure is not registered with pyplot, so a notebook
    shows a returned figure once (not again at the end of the cell) and nothing needs closing."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)
