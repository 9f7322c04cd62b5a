"""Distribution classification over a grid of variants × seeds (retrain or probe)."""

from __future__ import annotations

from .result import AblationResult
from .study import ablate

__all__ = ["AblationResult", "ablate"]
