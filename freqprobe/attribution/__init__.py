"""Attribution through Captum: which spectral bands, Fourier coefficients and pixels drive a
classifier's real-vs-fake decision (``fp.attribute``, ``AttributionReport``).

Captum is imported inside the functions that use it: it takes half a second to load.
"""

from __future__ import annotations

from .bands import BandLayout
from .report import AttributionReport, redraw
from .study import attribute

__all__ = ["AttributionReport", "BandLayout", "attribute", "redraw"]
