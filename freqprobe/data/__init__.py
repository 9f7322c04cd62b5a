"""Image sources in, validated uint8 ``ImageSet``s out; splits; the embedded demo sets."""

from __future__ import annotations

from .demo import demo_sets
from .imageset import ImageSet
from .loading import load_images
from .splits import train_test_split

__all__ = ["ImageSet", "demo_sets", "load_images", "train_test_split"]
