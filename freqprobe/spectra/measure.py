"""One streaming pass over an image set: every sum the spectrum report needs.

The set goes to the device once as uint8 when it fits the device's memory, else it
streams in large chunks, the next copied while this one is computed on
(``execution.placement``; the batches are the same either way). Per batch (float32, on
the device): the uint8 images are converted once;
the R, G, B planes are mean-removed and windowed in place and go through one ``rfft2``; the
BT.601 luminance Y's spectrum is the same weighted sum of the three channel spectra (the
FFT is linear, so no fourth transform); the luminance's noise residual spectrum (for the
default Gaussian denoiser straight from ``rfft2(Y)``: ``residuals.residual_spectrum``);
per-image radial and angular profiles of both (one scatter-add: ``profiles.Profiles``);
Haar sub-band energies and 8x8 DCT coefficient moments of Y. Everything is added to float64
running sums (``RunningMoments``), so a set is never held as float at once and its length
is bounded by nothing but time. Per-pixel maps stay float32; squares and logarithms are
taken in place.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator

import torch
from torch import Tensor

from ..data import ImageSet
from ..execution import placement
from ..transforms.spatial import BT601
from .moments import RunningMoments
from .power import POWER_FLOOR, Periodogram, periodogram, power_in_place
from .profiles import Binning, Profiles, profiles
from .residuals import residual_spectrum
from .subbands import dct_moments, subband_energy, subband_levels
from .workspace import Workspace

CHANNELS = ("R", "G", "B", "Y")
#: Pixels per batch (images x height x width): 16 images of 256 x 256 on the CPU, whose
#: float planes and spectra stay within the last-level cache (measured on 2 cores: 8 and 32
#: images per batch are up to 10 % slower, 4 and 64 up to 70 %); on CUDA, large enough to
#: keep the GPU busy.
BATCH_PIXELS = {"cpu": 2**20, "cuda": 2**24}


def decibels(power: Tensor) -> Tensor:
    """``10 log10(power)``, power floored at ``POWER_FLOOR`` (a new tensor)."""
    return power.clamp_min(POWER_FLOOR).log10_().mul_(10)


def default_batch_size(height: int, width: int, device: torch.device) -> int:
    """Images per batch for this size on this device."""
    return max(1, BATCH_PIXELS.get(device.type, BATCH_PIXELS["cpu"]) // (height * width))


def float_batches(
    images: ImageSet, batch_size: int, device: torch.device, workspace: Workspace, budget: int | None = None
) -> Iterator[Tensor]:
    """Float32 batches ``(B, 3, H, W)`` in grey levels ``[0, 255]``, moved to ``device`` as uint8.

    The set goes to the device whole when it fits ``budget`` (default: the device's free
    memory), else it streams in large chunks (``execution.placement``); the batches are the
    same either way. Not divided by 255: that scale rides on the luminance weights and the
    window. The batches share one ``workspace`` buffer, so each is valid until the next is drawn.
    """
    pixels, where = placement.placed(images.images, device, batch_size, budget)
    for chunk in placement.batches(pixels, batch_size, device, where):
        yield workspace.get("pixels", tuple(chunk.shape)).copy_(chunk)


def luminance(x: Tensor, scale: float = 1.0, out: Tensor | None = None) -> Tensor:
    """``scale * (0.299 R + 0.587 G + 0.114 B)`` of ``(N, 3, H, W)`` as ``(N, 1, H, W)``: three
    multiply-adds (an einsum over the 3-long channel axis is 10x slower on a CPU)."""
    y = torch.mul(x[:, 0:1], BT601[0] * scale) if out is None else torch.mul(x[:, 0:1], BT601[0] * scale, out=out)
    y.add_(x[:, 1:2], alpha=BT601[1] * scale)
    return y.add_(x[:, 2:3], alpha=BT601[2] * scale)


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

    def add(self, power: Tensor, bins: Profiles, workspace: Workspace | None = None) -> None:
        """Add half-plane power ``(B, C, H, W // 2 + 1)`` of a batch; ``power`` is overwritten
        (its logarithm and squares are taken in place)."""
        self.power.add(power)
        scratch = None if workspace is None else workspace.get("cells", (power.shape[0] * power.shape[1], bins.n_cells))
        radial, angular = bins.means(power, scratch)
        self.radial.add(radial)
        self.radial_db.add(decibels(radial))
        self.angular.add(angular)
        # dB = 10 log10(power): the factor 10 is applied to the batch sums, not to every value.
        logs = power.clamp_min_(POWER_FLOOR).log10_()
        total = logs.sum(0).double().mul_(10)
        self.decibels.add_totals(total, logs.square_().sum(0).double().mul_(100), logs.shape[0])


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
    periodogram: Periodogram
    profiles: Profiles
    denoiser: str
    batch_size: int
    subband_levels: int

    @property
    def window(self) -> Tensor:
        """The window, scaled to unit energy, ``(H, W)``."""
        return self.periodogram.window

    @functools.cached_property
    def pixel_window(self) -> Tensor:
        """``window / 255``: for images in grey levels."""
        return self.periodogram.window / 255

    @property
    def radial(self) -> Binning:
        return self.profiles.radial

    @property
    def angular(self) -> Binning:
        return self.profiles.angular

    @classmethod
    def build(
        cls, height: int, width: int, device: torch.device, window: str, denoiser: str, batch_size: int | None
    ) -> MeasurePlan:
        return cls(
            height=height,
            width=width,
            device=device,
            periodogram=periodogram(height, width, window, device),
            profiles=profiles(height, width, device=device),
            denoiser=denoiser,
            batch_size=batch_size or default_batch_size(height, width, device),
            subband_levels=subband_levels(height, width),
        )


def image_power(x: Tensor, plan: MeasurePlan, workspace: Workspace) -> Tensor:
    """Periodograms ``(B, 4, H, W // 2 + 1)`` of R, G, B and Y from grey levels ``x (B, 3, H, W)``.

    ``x`` is overwritten. Y's spectrum is ``sum(BT601[c] * spectrum[c])`` (the FFT is linear).
    The result lives in ``workspace``.
    """
    b, _, height, width = x.shape
    half = (height, width // 2 + 1)
    spectrum = plan.periodogram.spectrum(
        x, plan.pixel_window, out=workspace.get("spectrum", (b, 3, *half), torch.complex64)
    )
    parts = torch.view_as_real(spectrum)  # (B, 3, H, K, 2)
    luma = torch.mul(parts[:, 0], BT601[0], out=workspace.get("luma", (b, *half, 2)))
    luma.add_(parts[:, 1], alpha=BT601[1]).add_(parts[:, 2], alpha=BT601[2])
    power = workspace.get("power", (b, 4, *half))
    parts.square_()
    torch.add(parts[..., 0], parts[..., 1], out=power[:, :3])
    luma.square_()
    torch.add(luma[..., 0], luma[..., 1], out=power[:, 3])
    return power


def measure_set(images: ImageSet, plan: MeasurePlan, budget: int | None = None) -> SetSums:
    """Stream ``images`` in batches through every spectral statistic of ``plan`` (``budget``:
    device bytes for ``float_batches``' placement)."""
    sums = SetSums(SpectrumSums(), SpectrumSums(), RunningMoments(), RunningMoments())
    workspace = Workspace(plan.device)
    half = (plan.height, plan.width // 2 + 1)
    for x in float_batches(images, plan.batch_size, plan.device, workspace, budget):
        b = x.shape[0]
        y = luminance(x, 1 / 255, out=workspace.get("luminance", (b, 1, plan.height, plan.width)))
        sums.image.add(image_power(x, plan, workspace), plan.profiles, workspace)
        residual = residual_spectrum(
            y,
            plan.denoiser,
            plan.periodogram,
            out=workspace.get("residual", (b, 1, *half), torch.complex64),
            scratch=workspace.get("stencil", (b, 1, *half, 2)),
        )
        power = power_in_place(residual, out=workspace.get("residual power", (b, 1, *half)))
        sums.residual.add(power, plan.profiles, workspace)
        sums.subbands.add(subband_energy(y, plan.subband_levels, workspace)[:, 0])
        sums.dct.add_totals(*dct_moments(y, workspace))
    return sums


def measure_luminance(
    images: ImageSet,
    plan: MeasurePlan,
    sums: SpectrumSums | None = None,
    workspace: Workspace | None = None,
    budget: int | None = None,
) -> SpectrumSums:
    """Only the luminance's image spectrum statistics (``SetSums.image``'s Y channel, made
    from one ``rfft2`` of Y): what ``benchmarks/bench_spectra.py`` and ``bench_scale.py``
    time. Adds to ``sums``."""
    sums = SpectrumSums() if sums is None else sums
    workspace = Workspace(plan.device) if workspace is None else workspace
    half = (plan.height, plan.width // 2 + 1)
    for x in float_batches(images, plan.batch_size, plan.device, workspace, budget):
        b = x.shape[0]
        y = luminance(x, 1 / 255, out=workspace.get("luminance", (b, 1, plan.height, plan.width)))
        spectrum = plan.periodogram.spectrum(y, out=workspace.get("spectrum", (b, 1, *half), torch.complex64))
        sums.add(power_in_place(spectrum, out=workspace.get("power", (b, 1, *half))), plan.profiles, workspace)
    return sums
