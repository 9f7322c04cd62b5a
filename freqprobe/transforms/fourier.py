"""Fourier-domain masks: low-, high- and band-pass with ideal, Gaussian or Butterworth
windows, optionally restricted to an orientation sector.

Frequencies are in cycles per pixel, ``fy, fx`` as ``torch.fft.fftfreq`` gives them; the
radius is ``sqrt(fy**2 + fx**2)`` (Nyquist on an axis is 0.5, the corners ~0.707).
Low-pass gains ``L(r)``: ideal ``r <= F``; Gaussian ``exp(-r**2 / (2 F**2))`` (a spatial
Gaussian of sigma ``1 / (2 pi F)`` pixels); Butterworth ``1 / (1 + (r / F)**(2n))``.
High-pass is ``1 - L_F`` and band-pass ``L_F2 - L_F1``, so for every window a low-pass,
the band-passes and a high-pass on shared edges sum to the input exactly.

The orientation sector ``angle=a,b`` keeps frequencies whose direction
``atan2(fy, fx)`` folded into ``[0, 180)`` degrees lies in ``[a, b)`` (wrapping if
``a > b``): 0 degrees is variation along x (vertical stripes), 90 along y (horizontal
stripes). DC counts as 0 degrees, so sectors that cover the circle tile it too. The
canonical spec writes both angles mod 180 (``angle=-45,45`` is ``angle=135,45``); a sector
of 180 degrees (``angle=0,180``) is every direction, and the canonical spec drops it.
Outputs are not clipped: a filtered image leaves ``[0, 1]`` (a high-pass has zero mean).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import torch
from torch import Tensor

from .base import Transform, register

#: Just past the spectrum's corner, sqrt(0.5) ~ 0.7071: a low-pass at 0.71 keeps every frequency.
MAX_CUTOFF = 0.71
WINDOWS = ("ideal", "gaussian", "butterworth")


def frequency_grid(height: int, width: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Row and column frequencies ``fy (H, 1)``, ``fx (1, W)`` in cycles/pixel (float64)."""
    fy = torch.fft.fftfreq(height, device=device, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(width, device=device, dtype=torch.float64)[None, :]
    return fy, fx


def radial_frequency(height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
    """Radius ``sqrt(fy**2 + fx**2)`` on the full ``(H, W)`` FFT grid (float64)."""
    fy, fx = frequency_grid(height, width, device)
    return torch.sqrt(fy**2 + fx**2)


def orientation(height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
    """Direction of each frequency in degrees, folded into ``[0, 180)`` (float64)."""
    fy, fx = frequency_grid(height, width, device)
    theta = torch.rad2deg(torch.atan2(fy, fx)).remainder(180.0)
    theta = torch.round(theta * 1e6) / 1e6  # f and -f must land on the same value
    return theta.remainder(180.0)


def lowpass_gain(radius: Tensor, cutoff: float, window: str, order: int) -> Tensor:
    """The low-pass window ``L(r)`` with gain 1 at DC."""
    if window == "ideal":
        return (radius <= cutoff).to(radius.dtype)
    if window == "gaussian":
        return torch.exp(-(radius**2) / (2 * cutoff**2))
    return 1.0 / (1.0 + (radius / cutoff) ** (2 * order))


def sector_mask(height: int, width: int, angle: tuple[float, float], device: torch.device | str = "cpu") -> Tensor:
    """1 where the frequency direction lies in ``[angle[0], angle[1])`` (mod 180), else 0."""
    theta = orientation(height, width, device)
    lo, hi = (a % 180.0 for a in angle)
    inside = (theta >= lo) & (theta < hi) if lo < hi else (theta >= lo) | (theta < hi)
    return inside.to(torch.float64)


def hermitian_symmetrize(mask: Tensor) -> Tensor:
    """``(M(k) + M(-k)) / 2``: the mask that filtering a real image actually applies."""
    height, width = mask.shape[-2:]
    neg_y = (-torch.arange(height, device=mask.device)) % height
    neg_x = (-torch.arange(width, device=mask.device)) % width
    return (mask + mask[..., neg_y, :][..., neg_x]) / 2


def half_spectrum(mask: Tensor) -> Tensor:
    """The ``rfft2`` half ``(H, W // 2 + 1)`` of a Hermitian-symmetric full-grid mask."""
    return mask[..., : mask.shape[-1] // 2 + 1]


def apply_half_mask(x: Tensor, half: Tensor) -> Tensor:
    """Filter ``(N, C, H, W)`` by a half-spectrum gain ``(H, W // 2 + 1)``."""
    return torch.fft.irfft2(torch.fft.rfft2(x) * half, s=x.shape[-2:])


@dataclasses.dataclass(frozen=True, repr=False)
class _RadialFilter(Transform):
    window: str = "ideal"
    order: int = 2
    angle: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.angle is not None:
            lo, hi = self.angle
            turns = (hi - lo) / 180
            every_direction = turns != 0 and math.isclose(turns, round(turns))
            object.__setattr__(self, "angle", None if every_direction else (lo % 180.0, hi % 180.0))
        super().__post_init__()

    def _validate(self) -> None:
        for key, value in self._cutoffs().items():
            if not 0 < value <= MAX_CUTOFF:
                raise self.fail(f"{key}={value} is outside (0, {MAX_CUTOFF}] cycles/pixel")
        if self.window not in WINDOWS:
            raise self.fail(f"window={self.window!r}; choose one of {', '.join(WINDOWS)}")
        if self.order < 1:
            raise self.fail(f"order={self.order} must be >= 1 (Butterworth order)")
        if self.order != 2 and self.window != "butterworth":
            raise self.fail("order= applies to window=butterworth only")
        if self.angle is not None and math.isclose(self.angle[0] % 180, self.angle[1] % 180):
            raise self.fail(f"angle={self.angle[0]:g},{self.angle[1]:g} is an empty sector (mod 180)")

    def _cutoffs(self) -> dict[str, float]:
        raise NotImplementedError

    def gain(self, radius: Tensor) -> Tensor:
        raise NotImplementedError

    def check_size(self, height: int, width: int) -> None:
        if _keeps_nothing(self, height, width):
            raise self.fail(
                f"keeps no frequency of a {height}x{width} image (its grid steps are 1/{height} and 1/{width} "
                "cycles/pixel): every output would be 0"
            )

    def mask(self, height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
        """The full-grid ``(H, W)`` gain this filter applies (float64, Hermitian-symmetric)."""
        mask = self.gain(radial_frequency(height, width, device))
        if self.angle is not None:
            mask = mask * sector_mask(height, width, self.angle, device)
        return hermitian_symmetrize(mask)

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        return apply_half_mask(x, _cached_half_mask(self, *x.shape[-2:], x.device, x.dtype))


@functools.lru_cache(maxsize=256)
def _keeps_nothing(spec: _RadialFilter, height: int, width: int) -> bool:
    return not bool(spec.mask(height, width).any())


@functools.lru_cache(maxsize=64)
def _cached_half_mask(spec: _RadialFilter, height: int, width: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """The half-spectrum gain in the images' dtype, built once per size and device."""
    return half_spectrum(spec.mask(height, width, device)).to(dtype)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class LowPass(_RadialFilter):
    name = "lowpass"
    summary = "keep frequencies below the cutoff (cycles/pixel)"
    positional = ("cutoff",)
    cutoff: float = dataclasses.field(kw_only=True)

    def _cutoffs(self) -> dict[str, float]:
        return {"cutoff": self.cutoff}

    def gain(self, radius: Tensor) -> Tensor:
        return lowpass_gain(radius, self.cutoff, self.window, self.order)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class HighPass(_RadialFilter):
    name = "highpass"
    summary = "keep frequencies above the cutoff (cycles/pixel); 1 - lowpass"
    positional = ("cutoff",)
    cutoff: float = dataclasses.field(kw_only=True)

    def _cutoffs(self) -> dict[str, float]:
        return {"cutoff": self.cutoff}

    def gain(self, radius: Tensor) -> Tensor:
        return 1.0 - lowpass_gain(radius, self.cutoff, self.window, self.order)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class BandPass(_RadialFilter):
    name = "bandpass"
    summary = "keep frequencies between two cutoffs; lowpass(F2) - lowpass(F1)"
    positional = ("low", "high")
    low: float = dataclasses.field(kw_only=True)
    high: float = dataclasses.field(kw_only=True)

    def _validate(self) -> None:
        super()._validate()
        if self.low >= self.high:
            raise self.fail(f"needs F1 < F2, got {self.low:g},{self.high:g}")

    def _cutoffs(self) -> dict[str, float]:
        return {"F1": self.low, "F2": self.high}

    def gain(self, radius: Tensor) -> Tensor:
        high = lowpass_gain(radius, self.high, self.window, self.order)
        return high - lowpass_gain(radius, self.low, self.window, self.order)
