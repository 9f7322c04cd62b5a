"""Frequency representations as classifier inputs (spec ``repr:KIND``), not images.

A classifier can read an image's coefficients instead of its pixels, as the detection
literature does: blockwise 8x8 DCT coefficients (Frank et al., 2020), the log-magnitude
FFT and DCT spectra (Ricker et al., 2022), wavelet sub-bands. The output is no longer an
image of the input's shape, so a representation is always the last stage of a spec
(``highpass:0.1+repr:dct8`` filters first) and a study trains on it directly (it cannot be
a ``probe``-mode test variant of a model trained on pixels).

========== ============================= ==================================================
kind       output ``(N, C, H', W')``      definition
========== ============================= ==================================================
``dct8``   ``(N, 3*64, H/8, W/8)``       orthonormal DCT-II of each 8x8 tile; channel
                                         ``64*c + 8*u + v`` holds coefficient ``(u, v)``
``logfft`` ``(N, 3, H, W)``              ``log(|FFT|^2 + eps)`` per channel, DC centred
``logdct`` ``(N, 3, H, W)``              ``log(DCT^2 + eps)`` of the whole image per channel
``wavelet````(N, 3*4, H/2, W/2)``       one-level Haar DWT: ``LL, LH, HL, HH`` per channel
========== ============================= ==================================================

``eps`` is ``1e-6`` times the number of pixels (a power floor far below one grey level
of 8-bit quantisation noise), so constant images stay finite.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from .base import Compose, Original, Transform, register
from .dct import dct_matrix
from ..suggest import did_you_mean

KINDS = ("dct8", "logfft", "logdct", "wavelet")
#: The side each kind divides the image by.
BLOCK = {"dct8": 8, "logfft": 1, "logdct": 1, "wavelet": 2}
CHANNELS_PER_INPUT = {"dct8": 64, "logfft": 1, "logdct": 1, "wavelet": 4}


@register
@dataclasses.dataclass(frozen=True, repr=False)
class Representation(Transform):
    name = "repr"
    summary = "frequency representation as classifier input: dct8, logfft, logdct or wavelet (last stage)"
    positional = ("kind",)
    is_image = False
    kind: str = dataclasses.field(kw_only=True)

    def _validate(self) -> None:
        if self.kind not in KINDS:
            raise self.fail(f"unknown representation {self.kind!r}{did_you_mean(self.kind, KINDS)}; choose one of {', '.join(KINDS)}")

    def check_size(self, height: int, width: int) -> None:
        block = BLOCK[self.kind]
        if height % block or width % block:
            raise self.fail(f"{self.kind} needs image sides divisible by {block}, got {height}x{width}")

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        channels, height, width = shape
        block = BLOCK[self.kind]
        return channels * CHANNELS_PER_INPUT[self.kind], height // block, width // block

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        n, c, height, width = x.shape
        if self.kind == "dct8":
            d = dct_matrix(8, x.device, x.dtype)
            tiles = x.reshape(n, c, height // 8, 8, width // 8, 8)
            coeffs = torch.einsum("uy,ncaybx,vx->ncuvab", d, tiles, d)
            return coeffs.reshape(n, c * 64, height // 8, width // 8)
        if self.kind == "wavelet":
            a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
            cc, dd = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
            bands = ((a + b + cc + dd), (a + b - cc - dd), (a - b + cc - dd), (a - b - cc + dd))
            return torch.stack(bands, dim=2).div_(2).reshape(n, c * 4, height // 2, width // 2)
        eps = 1e-6 * height * width
        if self.kind == "logfft":
            power = torch.fft.fftshift(torch.fft.fft2(x).abs().square(), dim=(-2, -1))
        else:
            power = (dct_matrix(height, x.device, x.dtype) @ x @ dct_matrix(width, x.device, x.dtype).T).square()
        return torch.log(power + eps)


def image_stages(spec: Transform) -> Transform:
    """``spec`` without a trailing representation: the images it represents."""
    if isinstance(spec, Representation):
        return Original()
    if isinstance(spec, Compose) and isinstance(spec.stages[-1], Representation):
        rest = spec.stages[:-1]
        return rest[0] if len(rest) == 1 else Compose(stages=rest)
    return spec
