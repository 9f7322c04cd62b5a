"""freqprobe: why can a classifier tell two image distributions apart — in frequency and in space."""

from __future__ import annotations

from ._version import __version__
from .ablation import AblationResult, ablate
from .attribution import AttributionReport, attribute
from .data import ImageSet, demo_sets, load_images, train_test_split
from .limits import DetectionLimits, detection_limits
from .probe import ProbeReport, error_consistency, probe, shape_bias
from .spectra import SpectrumReport, spectrum
from .transforms import Transform, transform

__all__ = [
    "AblationResult",
    "AttributionReport",
    "DetectionLimits",
    "ImageSet",
    "ProbeReport",
    "SpectrumReport",
    "Transform",
    "__version__",
    "ablate",
    "attribute",
    "demo_sets",
    "detection_limits",
    "error_consistency",
    "load_images",
    "probe",
    "shape_bias",
    "spectrum",
    "train_test_split",
    "transform",
]
