"""freqprobe: why can a classifier tell two image distributions apart — in frequency and in space."""

from __future__ import annotations

from ._version import __version__
from .ablation import AblationResult, ablate
from .data import ImageSet, demo_sets, load_images, train_test_split
from .spectra import SpectrumReport, spectrum
from .transforms import Transform, transform

__all__ = [
    "AblationResult",
    "ImageSet",
    "SpectrumReport",
    "Transform",
    "__version__",
    "ablate",
    "demo_sets",
    "load_images",
    "spectrum",
    "train_test_split",
    "transform",
]
