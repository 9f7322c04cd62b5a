"""What the audiogram plants: a sinusoid (random phase per image), a band of noise around a
grid frequency, a colour cast, or a JPEG re-encoding: each at a known strength."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..errors import FreqprobeError


def frequency_grid(step: float = 0.125) -> list[tuple[float, float]]:
    """``(fy, fx)`` in cycles per pixel on a lattice of spacing ``step`` over the half plane
    ``fx > 0 or (fx == 0 and fy > 0)``, inside the Nyquist square (DC and |f| = 0.5 left out:
    at Nyquist a random phase scales the wave by ``|cos(phase)|``)."""
    if not 0 < step < 0.5:
        raise FreqprobeError(f"step must be in (0, 0.5) cycles per pixel, got {step}")
    count = math.ceil(0.5 / step - 1e-9)
    values = [round(k * step, 10) for k in range(-count + 1, count)]
    return [(fy, fx) for fx in values if fx >= 0 for fy in values if fx > 0 or fy > 0]


def plant_sinusoid(images: Tensor, fy: float, fx: float, amplitude: float, seed: int) -> Tensor:
    """``images`` (uint8 ``(N, C, H, W)``) plus ``amplitude * cos(2 pi (fy y + fx x) + phase_i)``
    grey levels in every channel, rounded and clipped; ``phase_i`` uniform, drawn per image
    from ``seed`` (the same phases at every amplitude, so a search compares like with like)."""
    n, _, height, width = images.shape
    phases = torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 * math.pi
    yy, xx = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64), indexing="ij")
    argument = (2 * math.pi * (fy * yy + fx * xx)).to(images.device)
    phases = phases.to(images.device)
    out = torch.empty_like(images)
    for start in range(0, n, 256):
        phase = phases[start : start + 256, None, None, None]
        wave = (amplitude * torch.cos(argument + phase)).float()
        out[start : start + 256] = (images[start : start + 256].float() + wave).round_().clamp_(0, 255).to(torch.uint8)
    return out


def noise_band_mask(size: tuple[int, int], fy: float, fx: float, step: float) -> Tensor:
    """Boolean ``(H, W)`` mask of the DFT bins in the grid cell of ``(fy, fx)`` (the square
    ``[f - step/2, f + step/2)`` on each axis, periodic) and in its mirror ``-f``: symmetric
    under ``k -> -k``, so a field filtered by it is real. DC is left out."""
    height, width = size

    def cell(n: int, centre: float) -> Tensor:
        offset = torch.remainder(torch.fft.fftfreq(n, dtype=torch.float64) - centre + 0.5, 1.0) - 0.5
        return (offset >= -step / 2 - 1e-12) & (offset < step / 2 - 1e-12)

    inside = cell(height, fy)[:, None] & cell(width, fx)[None, :]
    mirror = inside[(-torch.arange(height)) % height][:, (-torch.arange(width)) % width]
    mask = inside | mirror
    mask[0, 0] = False
    return mask


def plant_noise_band(images: Tensor, fy: float, fx: float, step: float, rms: float, seed: int) -> Tensor:
    """``images`` (uint8 ``(N, C, H, W)``) plus band-limited Gaussian noise, the same in every
    channel, fresh per image (drawn from ``seed``: the same noise at every ``rms``), whose
    spectrum fills ``noise_band_mask``; scaled by ``1 / sqrt(fraction of bins in the mask)``
    so its expected RMS is ``rms`` grey levels; rounded and clipped.

    Raises:
        FreqprobeError: the cell holds no DFT bin of these images (``step`` below ``1 / size``).
    """
    n, _, height, width = images.shape
    mask = noise_band_mask((height, width), fy, fx, step)
    fraction = float(mask.double().mean())
    if fraction == 0:
        raise FreqprobeError(f"the noise band of step {step} around ({fy}, {fx}) holds no frequency of "
                             f"{height}x{width} images; use a larger step")  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    out = torch.empty_like(images)
    for start in range(0, n, 256):
        count = min(256, n - start)
        white = torch.randn(count, height, width, generator=generator, dtype=torch.float64)
        band = torch.fft.ifft2(torch.fft.fft2(white) * mask).real * (rms / math.sqrt(fraction))
        band = band[:, None].float().to(images.device)
        out[start : start + count] = (images[start : start + count].float() + band).round_().clamp_(0, 255).to(torch.uint8)
    return out


def plant_colour_cast(images: Tensor, amount: int) -> Tensor:
    """``images`` (uint8 ``(N, 3, H, W)``) with ``amount`` grey levels (a whole number: uint8
    holds no less) added to red and taken from blue, clipped: the channel mean (luminance)
    is unchanged wherever no pixel clips."""
    if images.shape[1] != 3:
        raise FreqprobeError(f"a colour cast needs RGB images (3 channels), got {images.shape[1]}")
    shift = torch.tensor([amount, 0, -amount], dtype=torch.int16, device=images.device)[None, :, None, None]
    return (images.to(torch.int16) + shift).clamp_(0, 255).to(torch.uint8)


def plant_jpeg(images: Tensor, quality: int) -> Tensor:
    """``images`` (uint8 ``(N, 3, H, W)``) re-encoded as JPEG at ``quality`` (1..100) by
    OpenCV, as the ``jpeg:Q`` transform does (4:2:0 chroma), decoded back to uint8."""
    from ..transforms import transform

    jpeg = transform(f"jpeg:{int(quality)}")
    index = torch.arange(len(images))
    out = torch.empty_like(images)
    for start in range(0, len(images), 256):
        x = images[start : start + 256].float() / 255
        out[start : start + 256] = (jpeg(x, index[start : start + 256]) * 255).round_().to(torch.uint8)
    return out
