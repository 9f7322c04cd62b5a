"""Every plot lives here: matplotlib is imported by no other room."""

from __future__ import annotations

from .common import save_figure
from .grids import image_grid

__all__ = ["image_grid", "save_figure"]
