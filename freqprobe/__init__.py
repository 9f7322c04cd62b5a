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
from .generative import DiffusionClassifier, diffusion_classifier
from .probe import (
    BenchmarkReport,
    FourierHeatmapReport,
    ProbeReport,
    benchmark,
    error_consistency,
    fourier_heatmap,
    probe,
    shape_bias,
)
from .report import RunReport
from .report import report as html_report
from .spectra import SpectrumReport, spectrum
from .transforms import Transform, transform

__all__ = [
    "AblationResult",
    "AttributionReport",
    "AugmentResult",
    "BenchmarkReport",
    "CompareResult",
    "DiffusionClassifier",
    "DriftResult",
    "FourierHeatmapReport",
    "ImageSet",
    "ProbeReport",
    "RunReport",
    "SpectrumReport",
    "Transform",
    "__version__",
    "ablate",
    "attribute",
    "augment_vs_replace",
    "benchmark",
    "compare",
    "demo_sets",
    "diffusion_classifier",
    "drift",
    "error_consistency",
    "fourier_heatmap",
    "html_report",
    "load_images",
    "probe",
    "realism_guidance",
    "shape_bias",
    "spectrum",
    "train_test_split",
    "transform",
]
