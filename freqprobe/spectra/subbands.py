"""Wavelet sub-band energies and 8x8 block-DCT coefficients, per image, batched.

Sub-bands: a Haar DWT of ``SUBBAND_LEVELS`` levels (fewer for small images), with
PyWavelets' coefficients (mode ``symmetric``: an odd side gets its last row or column
repeated); a band's energy is the mean squared coefficient. Haar is orthonormal and needs
no padding on even sizes, so there the energies, weighted by coefficient counts, add up to
the image's energy. Bands are named as in ``transforms.wavelet``: ``LH`` = pywt's ``cH``
(horizontal edges), ``HL`` = ``cV``, ``HH`` = ``cD``; level 1 is the finest. The Haar step
is written out (sums and differences of 2 x 2 blocks) rather than run through ptwt's
convolutions, which cost 10x more on a CPU.

DCT: the orthonormal 2-D DCT-II of each 8x8 tile on the JPEG grid (aligned at the top-left
corner; a remainder of fewer than 8 rows or columns is left out), as
``transforms.dct.block_dct`` computes it; ``dct_moments`` forms the per-coefficient sums and
sums of squares over all tiles with two small matrix products, without the tile shuffle.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..transforms.dct import block_dct, dct_matrix
from ..transforms.wavelet import DETAILS, max_level
from .workspace import Workspace

SUBBAND_WAVELET = "haar"
SUBBAND_LEVELS = 3
DCT_BLOCK = 8


def subband_levels(height: int, width: int) -> int:
    """How many DWT levels the sub-band table has for images of this size."""
    return max(1, min(SUBBAND_LEVELS, max_level(height, width, SUBBAND_WAVELET)))


def subband_labels(levels: int) -> list[tuple[int, str]]:
    """``(level, band)`` of each column of ``subband_energy``: the approximation, then coarse to fine."""
    return [(levels, "LL")] + [(level, band) for level in range(levels, 0, -1) for band in DETAILS]


def _mean_square(band: Tensor) -> Tensor:
    return torch.linalg.vector_norm(band, dim=(-2, -1)).square_().div_(band.shape[-2] * band.shape[-1])


def _haar_step(x: Tensor, workspace: Workspace, level: int) -> tuple[Tensor, list[Tensor]]:
    """One level of the 2-D Haar DWT of ``(M, h, w)`` (pywt ``symmetric`` mode), unnormalised.

    Returns the approximation ``(M, ceil(h / 2), ceil(w / 2))`` as plain sums of 2 x 2
    blocks (twice the orthonormal coefficients) and the mean squares ``(M,)`` of the
    details ``cH, cV, cD`` made the same way (four times the orthonormal ones).
    """
    height, width = x.shape[-2:]
    if height % 2 or width % 2:  # symmetric extension by one sample: repeat the edge
        x = F.pad(x[:, None], (0, width % 2, 0, height % 2), mode="replicate")[:, 0]
    m, height, width = x.shape
    top, bottom = x[:, 0::2], x[:, 1::2]
    shape = (m, height // 2, width)
    low = torch.add(top, bottom, out=workspace.get(f"haar{level}.low", shape, x.dtype))
    high = torch.sub(top, bottom, out=workspace.get(f"haar{level}.high", shape, x.dtype))
    shape = (m, height // 2, width // 2)
    approx = torch.add(low[..., 0::2], low[..., 1::2], out=workspace.get(f"haar{level}.approx", shape, x.dtype))
    band = workspace.get(f"haar{level}.band", shape, x.dtype)
    energies = [
        _mean_square(torch.add(high[..., 0::2], high[..., 1::2], out=band)),  # cH: high along y, low along x
        _mean_square(torch.sub(low[..., 0::2], low[..., 1::2], out=band)),  # cV
        _mean_square(torch.sub(high[..., 0::2], high[..., 1::2], out=band)),  # cD
    ]
    return approx, energies


def subband_energy(x: Tensor, levels: int, workspace: Workspace | None = None) -> Tensor:
    """Mean squared coefficient of every sub-band: ``(N, C, H, W)`` -> ``(N, C, 1 + 3 * levels)``.

    Example:
        >>> x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
        >>> e = subband_energy(x, 2)
        >>> sizes = torch.tensor([16.0, 16, 16, 16, 64, 64, 64], dtype=torch.float64)
        >>> bool(torch.allclose((e * sizes).sum(-1), x.square().sum((-2, -1))))
        True
    """
    workspace = workspace or Workspace(x.device)
    n, c = x.shape[:2]
    approx = x.reshape(n * c, *x.shape[-2:])
    energies: list[Tensor] = []
    for level in range(1, levels + 1):
        approx, details = _haar_step(approx, workspace, level)
        # Level-l sums are 2**l times the orthonormal coefficients.
        energies = [energy.mul_(4.0**-level) for energy in details] + energies
    energies = [_mean_square(approx).mul_(4.0**-levels)] + energies
    return torch.stack(energies, dim=-1).reshape(n, c, -1)


def dct_blocks(x: Tensor) -> Tensor:
    """Every 8x8 tile's DCT coefficients: ``(N, C, H, W)`` -> ``(N * C * tiles, 8, 8)``."""
    height, width = (side - side % DCT_BLOCK for side in x.shape[-2:])
    coeffs = block_dct(x[..., :height, :width], DCT_BLOCK)
    n, c = x.shape[:2]
    tiles = coeffs.reshape(n, c, height // DCT_BLOCK, DCT_BLOCK, width // DCT_BLOCK, DCT_BLOCK)
    return tiles.permute(0, 1, 2, 4, 3, 5).reshape(-1, DCT_BLOCK, DCT_BLOCK)


def dct_moments(x: Tensor, workspace: Workspace | None = None) -> tuple[Tensor, Tensor, int]:
    """Sum and sum of squares of each 8x8 DCT coefficient over all tiles of ``(N, C, H, W)``.

    Returns ``(8, 8)`` sums, ``(8, 8)`` sums of squares (both in ``x``'s dtype) and the
    number of tiles: the moments of ``dct_blocks(x)`` over its first axis, without the tile
    shuffle. ``D @ tile @ D.T`` is two matrix products over all tiles at once: along y,
    ``D @ (8, pixels / 8)`` after moving each tile row's 8 image rows apart (whole rows
    move); along x, on the result as it lies, 4 tiles at a time against ``D.T`` repeated on
    a block diagonal (a ``(32, 32)`` matrix: a product with only 8 columns is 3x slower).
    """
    workspace = workspace or Workspace(x.device)
    height, width = (side - side % DCT_BLOCK for side in x.shape[-2:])
    d = dct_matrix(DCT_BLOCK, x.device, x.dtype)
    rows = x[..., :height, :width].reshape(-1, DCT_BLOCK, width)  # (tile rows, y, W)
    shape = (DCT_BLOCK, rows.shape[0] * width)
    by_y = workspace.get("dct.a", shape, x.dtype)
    by_y.view(DCT_BLOCK, -1, width).copy_(rows.transpose(0, 1))
    along_y = torch.mm(d, by_y, out=workspace.get("dct.b", shape, x.dtype))  # (u, tiles, x)
    tiles = shape[1] // DCT_BLOCK
    group = next(g for g in (4, 2, 1) if tiles % g == 0)
    block = torch.block_diag(*[d.T] * group)
    coeffs = torch.mm(along_y.view(-1, group * DCT_BLOCK), block, out=by_y.view(-1, group * DCT_BLOCK))
    coeffs = coeffs.view(DCT_BLOCK, tiles, DCT_BLOCK)  # (u, tiles, v)
    total = coeffs.sum(1)
    squares = coeffs.square_().sum(1)
    return total, squares, tiles
