"""Whole-image spectral statistics: the linear second opinion's features, and FastNet's
spectral branch (``fast-spectral``).

A faint periodic pattern is one Fourier coefficient of the whole image; a network that
reads local energy (receptive fields of 12 to about 70 px) sees it only in a wide band,
where a photo's own 1/f^2 content masks it at low frequencies (docs/limits.md measures
this). These features read narrow bins:

- the log power spectrum of the luminance (the mean of the channels; ``rfft2``, power
  averaged over square groups of bins when the image is larger than 32 px, so there are
  at most 32 x 17 of them);
- the mean over 8x8 tiles of ``log(|DCT coefficient| + 1/255)`` for each of the 64
  coefficients and each channel (the JPEG-grid statistics of Frank et al., 2020).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..transforms.dct import block_dct

#: At most this many spectrum rows per channel (larger images pool their bins).
SPECTRUM_SIDE = 32
#: The branch's standardised features are multiplied by this: under Adam, a 10x learning
#: rate for its linear term, which the short default schedule needs (docs/limits.md).
SPECTRAL_GAIN = 10.0


def spectral_features(x: Tensor) -> Tensor:
    """``(N, F)`` float32 features of float images ``(N, C, H, W)`` (see the module docstring)."""
    n, c, height, width = x.shape
    power = torch.fft.rfft2(x.float().mean(dim=1, keepdim=True)).abs().square()
    pool = max(1, math.ceil(max(height, width) / SPECTRUM_SIDE))
    if pool > 1:
        power = F.avg_pool2d(power, pool, ceil_mode=True)
    parts = [torch.log(power + 1e-6 * height * width).flatten(1)]
    if height >= 8 and width >= 8:
        tiles_y, tiles_x = height // 8, width // 8
        coeffs = block_dct(x[..., : 8 * tiles_y, : 8 * tiles_x].float(), 8).view(n, c, tiles_y, 8, tiles_x, 8)
        parts.append(torch.log(coeffs.abs().add(1 / 255)).mean(dim=(2, 4)).reshape(n, c * 64))
    return torch.cat(parts, dim=1)


def spectral_feature_count(channels: int, height: int, width: int) -> int:
    """How many features ``spectral_features`` gives for ``(channels, height, width)`` inputs."""
    return int(spectral_features(torch.zeros(1, channels, height, width)).shape[1])


class SpectralBranch(nn.Module):
    """Logits from ``spectral_features``: standardised per batch (BatchNorm, no affine),
    times ``SPECTRAL_GAIN``, then a linear layer that starts at zero."""

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(num_features, affine=False)
        self.linear = nn.Linear(num_features, num_classes)
        nn.init.zeros_(self.linear.weight)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(SPECTRAL_GAIN * self.norm(spectral_features(x)))
