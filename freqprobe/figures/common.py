"""Making figures without pyplot, and saving them as PDF + PNG, atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.legend import Legend

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


def subplots(
    nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None, layout: str | None = None, **kwargs: Any
):
    """``plt.subplots`` without pyplot: the figure is not registered with pyplot, so a notebook
    shows a returned figure once (not again at the end of the cell) and nothing needs closing."""
    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


#: The one sequential and the one diverging colour map of every figure (magnitudes, signed values).
SEQUENTIAL_CMAP = "magma"
DIVERGING_CMAP = "RdBu_r"
#: The gid of chance lines (one per task, drawn where that task's bars or curves are).
CHANCE_GID = "chance"


def legend_outside(ax: Axes, *args: Any, where: str = "right", **kwargs: Any) -> Legend:
    """A legend beside (``right``) or below (``below``) the axes, never over the data."""
    placement = (
        {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
        if where == "right"
        else {"loc": "upper center", "bbox_to_anchor": (0.5, -0.22), "ncol": 2}
    )
    return ax.legend(*args, **{"fontsize": 7, "frameon": False, "borderaxespad": 0.0, **placement, **kwargs})


def labelled_colorbar(fig: Figure, image: ScalarMappable, axes: Axes | list[Axes], label: str, **kwargs: Any) -> Colorbar:
    """A colour bar that says what its numbers are (quantity and unit)."""
    bar = fig.colorbar(image, ax=axes, **{"shrink": 0.85, "pad": 0.02, **kwargs})
    bar.set_label(label, fontsize=7)
    bar.ax.tick_params(labelsize=6, length=2)
    return bar


#: Resolution of figures embedded in HTML (a page, not print: the PDFs are for print).
EMBED_DPI = 110


def png_bytes(fig: Figure, dpi: int = EMBED_DPI) -> bytes:
    """The figure as PNG bytes (for embedding in a report)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()
