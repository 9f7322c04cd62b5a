"""Synthetic test images with known statistics."""

from __future__ import annotations

import numpy as np
import torch


def natural_like(n: int, height: int, width: int, channels: int = 3, seed: int = 0) -> torch.Tensor:
    """Float images in [0, 1] with a 1/f-like spectrum (smooth structure plus fine detail)."""
    gen = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    radius = np.sqrt(fy**2 + fx**2)
    radius[0, 0] = 1.0 / max(height, width)
    noise = gen.standard_normal((n, channels, height, width))
    images = np.fft.ifft2(np.fft.fft2(noise) / radius).real
    images -= images.min(axis=(-2, -1), keepdims=True)
    images /= images.max(axis=(-2, -1), keepdims=True)
    return torch.from_numpy(images).float()
