"""One streaming pass over an image set: every sum the spectrum report needs.

Per batch (float32, on the device): R, G, B and BT.601 luminance Y planes; their
half-plane power spectra; the luminance's noise residual and its power spectrum; per-image
radial and angular profiles of both; Haar sub-band energies and 8x8 DCT coefficients of Y.
Everything is added to float64 running sums (``RunningMoments``), so a set is never held
as float at once and its length is bounded by nothing but time.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from ..data import ImageSet
from ..transforms.spatial import luminance
from .moments import RunningMoments
from .power import POWER_FLOOR, power_spectrum, spectral_window
from .profiles import Binning, angular_binning, radial_binning
from .residuals import noise_residual
from .subbands import dct_blocks, subband_energy, subband_levels

CHANNELS = ("R", "G", "B", "Y")
#: Pixels per batch (images x height x width): small enough for the CPU's caches and for
#: the denoisers' temporaries, large enough to keep a GPU busy.
BATCH_PIXELS = {"cpu": 2**19, "cuda": 2**24}


def decibels(power: Tensor) -> Tensor:
    """``10 log10(power)``, power floored at ``POWER_FLOOR`` (a new tensor)."""
    return power.clamp_min(POWER_FLOOR).log10_().mul_(10)


def default_batch_size(height: int, width: int, device: torch.device) -> int:
    """Images per batch for this size on this device."""
    return max(1, BATCH_PIXELS.get(device.type, BATCH_PIXELS["cpu"]) // (height * width))


@dataclasses.dataclass
class SpectrumSums:
    """Running sums over the images of one set for one kind of spectrum (image or residual).

    ``power`` (sums only) and ``decibels`` are per frequency ``(C, H, W // 2 + 1)``;
    ``radial``, ``radial_db`` and ``angular`` are per bin ``(C, bins)`` (``radial_db``: the
    dB of each image's bin mean).
    """

    power: RunningMoments = dataclasses.field(default_factory=lambda: RunningMoments(squares=False))
    decibels: RunningMoments = dataclasses.field(default_factory=RunningMoments)
    radial: RunningMoments = dataclasses.field(default_factory=RunningMoments)
    radial_db: RunningMoments = dataclasses.field(default_factory=RunningMoments)
    angular: RunningMoments = dataclasses.field(default_factory=RunningMoments)

    def add(self, power: Tensor, radial: Binning, angular: Binning) -> None:
        """Add half-plane power ``(B, C, H, W // 2 + 1)`` of a batch."""
        self.power.add(power)
        self.decibels.add(decibels(power))
        profile = radial.means(power)
        self.radial.add(profile)
        self.radial_db.add(decibels(profile))
        self.angular.add(angular.means(power))


@dataclasses.dataclass
class SetSums:
    """Everything measured on one set."""

    image: SpectrumSums
    residual: SpectrumSums
    subbands: RunningMoments
    dct: RunningMoments


@dataclasses.dataclass(frozen=True)
class MeasurePlan:
    """What is the same for every set: size, device, window, bins, denoiser, batch size."""

    height: int
    width: int
    device: torch.device
    window: Tensor
    radial: Binning
    angular: Binning
    denoiser: str
    batch_size: int
    subband_levels: int

    @classmethod
    def build(
        cls, height: int, width: int, device: torch.device, window: str, denoiser: str, batch_size: int | None
    ) -> MeasurePlan:
        return cls(
            height=height,
            width=width,
            device=device,
            window=spectral_window(height, width, window, device),
            radial=radial_binning(height, width, device),
            angular=angular_binning(height, width, device=device),
            denoiser=denoiser,
            batch_size=batch_size or default_batch_size(height, width, device),
            subband_levels=subband_levels(height, width),
        )


def measure_set(images: ImageSet, plan: MeasurePlan) -> SetSums:
    """Stream ``images`` in batches through every spectral statistic of ``plan``."""
    sums = SetSums(SpectrumSums(), SpectrumSums(), RunningMoments(), RunningMoments())
    for x in images.batches(plan.batch_size, plan.device):
        y = luminance(x)
        sums.image.add(power_spectrum(torch.cat([x, y], 1), plan.window), plan.radial, plan.angular)
        residual = noise_residual(y, plan.denoiser)
        sums.residual.add(power_spectrum(residual, plan.window), plan.radial, plan.angular)
        sums.subbands.add(subband_energy(y, plan.subband_levels)[:, 0])
        sums.dct.add(dct_blocks(y))
    return sums
