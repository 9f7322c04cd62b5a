"""Distribution classification over a grid of variants × seeds (retrain or probe)."""

from __future__ import annotations

from .result import AblationResult
from .study import ablate
from .trained import resolve_model

__all__ = ["AblationResult", "ablate", "resolve_model"]
