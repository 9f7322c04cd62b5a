"""freqprobe: why can a classifier tell two image distributions apart — in frequency and in space."""

from __future__ import annotations

from ._version import __version__
from .data import ImageSet, demo_sets, load_images, train_test_split
from .transforms import Transform, transform

__all__ = ["ImageSet", "Transform", "__version__", "demo_sets", "load_images", "train_test_split", "transform"]
