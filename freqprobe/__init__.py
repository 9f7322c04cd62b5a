"""freqprobe: why can a classifier tell two image distributions apart — in frequency and in space."""

from __future__ import annotations

from ._version import __version__
from .ablation import AblationResult, ablate
from .attribution import AttributionReport, attribute
from .data import ImageSet, demo_sets, load_images, train_test_split
from .probe import (BenchmarkReport, FourierHeatmapReport, ProbeReport, benchmark, error_consistency,
                    fourier_heatmap, probe, shape_bias)
from .spectra import SpectrumReport, spectrum
from .transforms import Transform, transform

__all__ = [
    "AblationResult",
    "AttributionReport",
    "BenchmarkReport",
    "FourierHeatmapReport",
    "ImageSet",
    "ProbeReport",
    "SpectrumReport",
    "Transform",
    "__version__",
    "ablate",
    "attribute",
    "benchmark",
    "demo_sets",
    "error_consistency",
    "fourier_heatmap",
    "load_images",
    "probe",
    "shape_bias",
    "spectrum",
    "train_test_split",
    "transform",
]
