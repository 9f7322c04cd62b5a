"""Synthetic test images with known statistics."""

from __future__ import annotations

import numpy as np
import torch


def natural_like(n: int, height: int, width: int, channels: int = 3, seed: int = 0) -> torch.Tensor:
    """Float images in [0, 1] with a 1/f-like spectrum (smooth structure plus fine detail)."""
    gen = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    radius = np.sqrt(fy**2 + fx**2)
    radius[0, 0] = 1.0 / max(height, width)
    noise = gen.standard_normal((n, channels, height, width))
    images = np.fft.ifft2(np.fft.fft2(noise) / radius).real
    images -= images.min(axis=(-2, -1), keepdims=True)
    images /= images.max(axis=(-2, -1), keepdims=True)
    return torch.from_numpy(images).float()


def planted_sets(
    n: int, size: int, fy: float, fx: float, amplitude: float, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ``(real, fake)``: independent 1/f images; the fake ones carry a fixed
    sinusoid at ``(fy, fx)`` cycles/pixel — a difference planted at one frequency."""
    real = natural_like(n, size, size, seed=seed)
    fake = natural_like(n, size, size, seed=seed + 1)
    yy, xx = np.mgrid[:size, :size]
    wave = torch.from_numpy(amplitude * np.cos(2 * np.pi * (fy * yy + fx * xx))).float()
    fake = (fake * (1 - 2 * amplitude) + amplitude + wave).clamp(0, 1)
    real = real * (1 - 2 * amplitude) + amplitude
    return (real * 255).round().to(torch.uint8), (fake * 255).round().to(torch.uint8)


def tiny_net(num_classes: int) -> torch.nn.Module:
    """A user model for ``module:factory`` tests."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(8, num_classes),
    )


def wrong_net(num_classes: int) -> torch.nn.Module:
    """A user model that gives one logit too many."""
    return tiny_net(num_classes + 1)


def three_logits(num_classes: int) -> torch.nn.Module:
    """A user model that always gives 3 logits (right for a 3-way task only)."""
    return tiny_net(3)


def broken_factory(num_classes: int) -> torch.nn.Module:
    raise RuntimeError("no such network")


class _NaNOutputs(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * float("nan")


def nan_net(num_classes: int) -> torch.nn.Module:
    """A user model whose logits are all NaN."""
    return torch.nn.Sequential(tiny_net(num_classes), _NaNOutputs())


def tiny_net_2() -> torch.nn.Module:
    """A two-class ``tiny_net`` built without arguments (``load_model``'s ``module:factory``)."""
    return tiny_net(2)
