"""Wavelet sub-band selection: keep or drop one sub-band of an ``L``-level 2-D DWT.

Spec ``wavelet:NAME,level=L,keep=BAND`` or ``wavelet:NAME,level=L,drop=BAND`` with
``BAND`` one of ``LL, LH, HL, HH`` and an optional ``mode=`` boundary extension
(``symmetric``, PyWavelets' default; also ``reflect``, ``zero``, ``periodic``,
``constant``, with pywt's meanings). ``NAME`` is any ``pywt.wavelist(kind="discrete")``
wavelet; ``level`` defaults to 1 and may go up to ``pywt.dwt_max_level(min(H, W), NAME)``.

Sub-band naming, per level, in pywt's terms (axis 0 is height, axis 1 width):

- ``LL``: the approximation ``cA`` (low-pass along both axes; dwtn key ``aa``);
- ``LH``: ``cH``, the horizontal detail: low-pass along width, high-pass along height
  (key ``da``), so it responds to horizontal edges;
- ``HL``: ``cV``, the vertical detail: high-pass along width, low-pass along height
  (key ``ad``), vertical edges;
- ``HH``: ``cD``, the diagonal detail (key ``dd``).

Semantics: decompose ``L`` levels, then ``keep=LL`` keeps only the level-``L``
approximation (every detail zeroed); ``keep=LH|HL|HH`` keeps only that detail band at
level ``L`` (the approximation and every other detail zeroed); ``drop=BAND`` zeroes that
one band at level ``L`` and keeps the rest. The inverse DWT is cropped back to ``H, W``.
The DWT is linear, so at level 1 the four ``keep`` outputs sum to the input and
``drop=B`` equals the input minus ``keep=B``. Outputs are not clipped.

The DWT is ptwt's (``ptwt.wavedec2`` / ``waverec2``): it runs batched on the images'
device, its coefficients match pywt's (it is tested against pywt, and so are we), and it
is maintained; hand-written filter banks would have to re-derive pywt's padding and
odd-size conventions.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools

import ptwt
import pywt
import torch
from ptwt.constants import WaveletDetailTuple2d
from torch import Tensor

from .base import Transform, register

SUBBANDS = ("LL", "LH", "HL", "HH")
DETAILS = ("LH", "HL", "HH")  # the order of ptwt's and pywt's detail tuples (cH, cV, cD)
MODES = ("symmetric", "reflect", "zero", "periodic", "constant")
EXAMPLE_WAVELETS = ("haar", "db2", "db4", "sym4", "coif1", "bior2.2")


@functools.cache
def discrete_wavelets() -> frozenset[str]:
    """Names of pywt's discrete wavelets (those a DWT accepts)."""
    return frozenset(pywt.wavelist(kind="discrete"))


def max_level(height: int, width: int, wavelet: str) -> int:
    """The deepest useful DWT level for images of this size (0 if the filter is too long)."""
    return pywt.dwt_max_level(min(height, width), wavelet)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class WaveletBand(Transform):
    name = "wavelet"
    summary = "keep or drop one DWT sub-band (LL, LH, HL, HH) at level L"
    positional = ("wavelet",)
    wavelet: str = dataclasses.field(kw_only=True)
    level: int = 1
    keep: str | None = None
    drop: str | None = None
    mode: str = "symmetric"

    def __post_init__(self) -> None:
        for key in ("keep", "drop"):  # ll/LL alike; canonical upper case
            if isinstance(getattr(self, key), str):
                object.__setattr__(self, key, getattr(self, key).upper())
        super().__post_init__()

    def _validate(self) -> None:
        if self.wavelet not in discrete_wavelets():
            close = difflib.get_close_matches(self.wavelet, discrete_wavelets(), n=5)
            examples = ", ".join(close or EXAMPLE_WAVELETS)
            raise self.fail(f"unknown wavelet {self.wavelet!r}; e.g. {examples} (see pywt.wavelist(kind='discrete'))")
        if self.level < 1:
            raise self.fail(f"level={self.level} must be >= 1")
        if (self.keep is None) == (self.drop is None):
            raise self.fail("give exactly one of keep= or drop= (LL, LH, HL or HH)")
        band = self.band
        if band not in SUBBANDS:
            key = "keep" if self.keep is not None else "drop"
            raise self.fail(f"{key}={band!r}; choose one of {', '.join(SUBBANDS)}")
        if self.mode not in MODES:
            raise self.fail(f"mode={self.mode!r}; choose one of {', '.join(MODES)}")

    @property
    def band(self) -> str:
        """The sub-band named by ``keep=`` or ``drop=``."""
        return self.keep if self.keep is not None else self.drop  # type: ignore[return-value]

    def check_size(self, height: int, width: int) -> None:
        deepest = max_level(height, width, self.wavelet)
        if self.level > deepest:
            raise self.fail(
                f"level={self.level} is too deep for {height}x{width} images with {self.wavelet}; "
                f"the maximum level for this size is {deepest}"
            )

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        data = x.to(torch.promote_types(x.dtype, torch.float32))
        approx, deepest, *finer = ptwt.wavedec2(data, self.wavelet, mode=self.mode, level=self.level)
        if self.keep is not None:
            approx = approx if self.band == "LL" else torch.zeros_like(approx)
            details = [c if b == self.band else torch.zeros_like(c) for b, c in zip(DETAILS, deepest)]
            finer = [WaveletDetailTuple2d(*map(torch.zeros_like, level)) for level in finer]
        else:
            approx = torch.zeros_like(approx) if self.band == "LL" else approx
            details = [torch.zeros_like(c) if b == self.band else c for b, c in zip(DETAILS, deepest)]
        coeffs = (approx, WaveletDetailTuple2d(*details), *finer)
        return ptwt.waverec2(coeffs, self.wavelet)[..., :height, :width].to(x.dtype)
