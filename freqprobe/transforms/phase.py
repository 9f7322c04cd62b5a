"""Phase and amplitude manipulations of the 2-D spectrum (per channel).

``phase_only`` keeps the phase with unit amplitude; ``amplitude_only`` keeps the amplitude
with zero phase (the image then peaks at pixel (0, 0), as the inverse FFT puts it);
``phase_noise:DEG`` adds a uniform phase shift in ``[-DEG, DEG]`` to every frequency,
odd-symmetric (``shift(-f) = -shift(f)``) so the image stays real, and the same for all
channels of an image; ``power_equalize`` gives every image the set's mean amplitude
spectrum while keeping its phase (call ``fit`` on the set first). Outputs are not clipped.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import Tensor

from .base import Transform, iter_batches, register
from .keyed_random import keyed_uniform

_TINY = 1e-12


def unit_phasor(spectrum: Tensor) -> Tensor:
    """``F / |F|``; where ``|F|`` vanishes, 1 (phase 0)."""
    magnitude = spectrum.abs()
    return torch.where(magnitude > _TINY, spectrum / magnitude.clamp_min(_TINY), torch.ones_like(spectrum))


@register
@dataclasses.dataclass(frozen=True, repr=False)
class PhaseOnly(Transform):
    name = "phase_only"
    summary = "keep the phase, set every amplitude to 1"

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        return torch.fft.irfft2(unit_phasor(torch.fft.rfft2(x)), s=x.shape[-2:])


@register
@dataclasses.dataclass(frozen=True, repr=False)
class AmplitudeOnly(Transform):
    name = "amplitude_only"
    summary = "keep the amplitude, set every phase to 0"

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        spectrum = torch.fft.rfft2(x)
        return torch.fft.irfft2(spectrum.abs().to(spectrum.dtype), s=x.shape[-2:])


def odd_symmetric_phase(degrees: float, seed: int, index: Tensor, height: int, width: int) -> Tensor:
    """Phase shifts ``(N, H, W)`` in radians, uniform in ``[-degrees, degrees]``, with
    ``shift(-f) = -shift(f)`` and 0 on self-conjugate frequencies (DC, Nyquist)."""
    device = index.device
    linear = torch.arange(height * width, device=device).reshape(height, width)
    neg_y = (-torch.arange(height, device=device)) % height
    neg_x = (-torch.arange(width, device=device)) % width
    partner = linear[neg_y][:, neg_x]
    canonical = torch.minimum(linear, partner)
    sign = torch.sign(partner - linear).to(torch.float32)  # +1 canonical, -1 mirror, 0 self
    u = keyed_uniform(seed, index, (height * width,), "phase_noise")[:, canonical]
    return (2.0 * u - 1.0) * math.radians(degrees) * sign


@register
@dataclasses.dataclass(frozen=True, repr=False)
class PhaseNoise(Transform):
    name = "phase_noise"
    summary = "add uniform phase noise in [-DEG, DEG] degrees to every frequency"
    positional = ("degrees",)
    degrees: float = dataclasses.field(kw_only=True)
    seed: int = 0

    def _validate(self) -> None:
        if not 0 < self.degrees <= 180:
            raise self.fail(f"degrees={self.degrees:g} is outside (0, 180]")

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        shift = odd_symmetric_phase(self.degrees, self.seed, index, height, width)[:, None, :, : width // 2 + 1]
        return torch.fft.irfft2(torch.fft.rfft2(x) * torch.polar(torch.ones_like(shift), shift), s=(height, width))


@register
@dataclasses.dataclass(frozen=True, repr=False)
class PowerEqualize(Transform):
    """Every image gets the set's mean amplitude spectrum (per channel), keeping its phase."""

    name = "power_equalize"
    summary = "replace each amplitude spectrum by the set's mean (fit on the set first)"
    needs_fit = True

    def fit(self, images: Any) -> PowerEqualize:
        """Average ``|rfft2|`` over every image of ``images`` (a tensor, ``ImageSet`` or batches)."""
        total: Tensor | None = None
        count = 0
        for _, x in iter_batches(images):
            amplitude = torch.fft.rfft2(x.double()).abs().sum(dim=0)
            total = amplitude if total is None else total + amplitude
            count += x.shape[0]
        if total is None:
            raise self.fail("fit() got no images")
        object.__setattr__(self, "_mean_amplitude", total / count)
        return self

    def check_size(self, height: int, width: int) -> None:
        mean = getattr(self, "_mean_amplitude", None)
        if mean is not None and (mean.shape[-2] != height or mean.shape[-1] != width // 2 + 1):
            raise self.fail(f"fitted on images of another size than {height}x{width}")

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        mean = getattr(self, "_mean_amplitude", None)
        if mean is None:
            raise self.fail("needs the set's mean amplitude: call .fit(images) first")
        if mean.shape[0] != x.shape[1]:
            raise self.fail(f"fitted on {mean.shape[0]}-channel images, got {x.shape[1]} channels")
        phasor = unit_phasor(torch.fft.rfft2(x))
        height, width = x.shape[-2:]
        return torch.fft.irfft2(phasor * mean.to(x.device, x.dtype), s=(height, width))
