"""The filter bank: batched transforms on float ``(N, C, H, W)`` images, named by spec strings.

>>> import freqprobe as fp
>>> str(fp.transform("lowpass:0.150,window=gaussian + patchshuffle:4"))
'lowpass:0.15,window=gaussian+patchshuffle:4'
"""

from __future__ import annotations

# Importing a module registers its transforms.
from . import dct, edges, fourier, phase, representations, spatial, wavelet  # noqa: F401
from .base import REGISTRY, Compose, Transform, transform, usage

__all__ = ["REGISTRY", "Compose", "Transform", "transform", "usage"]
