"""Wavelet sub-band energies and 8x8 block-DCT coefficients, per image, batched.

Sub-bands: a Haar DWT (ptwt, as PyWavelets computes it) of ``SUBBAND_LEVELS`` levels (fewer
for small images); a band's energy is the mean squared coefficient. Haar is orthonormal
and needs no padding on even sizes, so there the energies, weighted by coefficient counts,
add up to the image's energy. Bands are named as in ``transforms.wavelet``: ``LH`` =
pywt's ``cH`` (horizontal edges), ``HL`` = ``cV``, ``HH`` = ``cD``; level 1 is the finest.

DCT: the orthonormal 2-D DCT-II of each 8x8 tile on the JPEG grid (aligned at the top-left
corner; a remainder of fewer than 8 rows or columns is left out), from
``transforms.dct.block_dct``.
"""

from __future__ import annotations

import ptwt
import torch
from torch import Tensor

from ..transforms.dct import block_dct
from ..transforms.wavelet import DETAILS, max_level

SUBBAND_WAVELET = "haar"
SUBBAND_LEVELS = 3
DCT_BLOCK = 8


def subband_levels(height: int, width: int) -> int:
    """How many DWT levels the sub-band table has for images of this size."""
    return max(1, min(SUBBAND_LEVELS, max_level(height, width, SUBBAND_WAVELET)))


def subband_labels(levels: int) -> list[tuple[int, str]]:
    """``(level, band)`` of each column of ``subband_energy``: the approximation, then coarse to fine."""
    return [(levels, "LL")] + [(level, band) for level in range(levels, 0, -1) for band in DETAILS]


def subband_energy(x: Tensor, levels: int) -> Tensor:
    """Mean squared coefficient of every sub-band: ``(N, C, H, W)`` -> ``(N, C, 1 + 3 * levels)``.

    Example:
        >>> x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
        >>> e = subband_energy(x, 2)
        >>> sizes = torch.tensor([16.0, 16, 16, 16, 64, 64, 64], dtype=torch.float64)
        >>> bool(torch.allclose((e * sizes).sum(-1), x.square().sum((-2, -1))))
        True
    """
    approx, *details = ptwt.wavedec2(x, SUBBAND_WAVELET, mode="symmetric", level=levels)
    bands = [approx] + [band for level in details for band in level]
    return torch.stack([band.square().mean((-2, -1)) for band in bands], dim=-1)


def dct_blocks(x: Tensor) -> Tensor:
    """Every 8x8 tile's DCT coefficients: ``(N, C, H, W)`` -> ``(N * C * tiles, 8, 8)``."""
    height, width = (side - side % DCT_BLOCK for side in x.shape[-2:])
    coeffs = block_dct(x[..., :height, :width], DCT_BLOCK)
    n, c = x.shape[:2]
    tiles = coeffs.reshape(n, c, height // DCT_BLOCK, DCT_BLOCK, width // DCT_BLOCK, DCT_BLOCK)
    return tiles.permute(0, 1, 2, 4, 3, 5).reshape(-1, DCT_BLOCK, DCT_BLOCK)
