"""Every plot lives here: matplotlib is imported by no other room."""

from __future__ import annotations

from .common import save_figure
from .grids import image_grid
from .spectra import spectra_figure as spectra_figure

__all__ = ["image_grid", "save_figure"]
