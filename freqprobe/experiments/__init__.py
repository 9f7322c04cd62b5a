"""Distribution classification beyond ablations, built on the ablation grid: the generator
matrix (``compare``), drift across generations (``drift``), augment vs replace, realism
guidance for a diffusion sampler, and study files that run many analyses at once."""

from __future__ import annotations

from .compare import CompareResult, compare
from .drift import DriftResult, drift

__all__ = ["CompareResult", "DriftResult", "compare", "drift"]
