"""freqprobe: why can a classifier tell two image distributions apart — in frequency and in space."""

from __future__ import annotations

from ._version import __version__
from .ablation import AblationResult, ablate
from .attribution import AttributionReport, attribute
from .data import ImageSet, demo_sets, load_images, train_test_split
from .experiments import (
    AugmentResult,
    CompareResult,
    DriftResult,
    augment_vs_replace,
    compare,
    drift,
    realism_guidance,
)
from .probe import ProbeReport, error_consistency, probe, shape_bias
from .spectra import SpectrumReport, spectrum
from .transforms import Transform, transform

__all__ = [
    "AblationResult",
    "AttributionReport",
    "AugmentResult",
    "CompareResult",
    "DriftResult",
    "ImageSet",
    "ProbeReport",
    "SpectrumReport",
    "Transform",
    "__version__",
    "ablate",
    "attribute",
    "augment_vs_replace",
    "compare",
    "demo_sets",
    "drift",
    "error_consistency",
    "load_images",
    "probe",
    "realism_guidance",
    "shape_bias",
    "spectrum",
    "train_test_split",
    "transform",
]
