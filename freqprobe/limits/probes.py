"""What the audiogram plants: a sinusoid of known frequency and amplitude, random phase per image."""

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
