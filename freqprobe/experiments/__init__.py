"""Distribution classification beyond ablations, built on the ablation grid: the generator
matrix (``compare``), drift across generations (``drift``), augment vs replace, realism
guidance for a diffusion sampler, and study files that run many analyses at once."""

from __future__ import annotations

from .compare import CompareResult, compare
from .augment import AugmentResult, augment_vs_replace
from .drift import DriftResult, drift
from .guidance import NoiseSchedule, RealismGuidance, realism_guidance, train_realism_classifier

__all__ = [
    "AugmentResult", "CompareResult", "DriftResult", "NoiseSchedule", "RealismGuidance", "augment_vs_replace",
    "compare", "drift", "realism_guidance", "train_realism_classifier",
]  # fmt: skip
