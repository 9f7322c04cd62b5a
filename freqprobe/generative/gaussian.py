"""Gaussian classes with their exact noise predictor: a diffusion model known in closed form.

For ``x₀ ~ N(μ_c, diag(s_c²))`` and ``x_t = α x₀ + σ ε`` (``α² = ᾱ_t``, ``σ² = 1 − ᾱ_t``),
the minimum-error noise prediction is ``E[ε | x_t, c] = σ (x_t − α μ_c) / (α² s_c² + σ²)``,
and the Bayes classifier picks the class of highest ``log N(x₀; μ_c, s_c²)``. A diffusion
classifier built on this predictor must agree with that classifier once its budget is large.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .schedule import ddpm_alphas_cumprod


class GaussianClasses:
    """``k`` diagonal Gaussian classes of images ``shape`` in the denoiser's range [-1, 1]:
    means ``spread · N(0, 1)``, standard deviations between ``scales`` (per class, varied
    ±20 % per element), drawn from ``seed``."""

    def __init__(self, k: int = 4, shape: tuple[int, ...] = (3, 4, 4), spread: float = 0.06,
                 scales: tuple[float, float] = (0.3, 0.4), seed: int = 0,
                 alphas_cumprod: Tensor | None = None) -> None:  # fmt: skip
        g = torch.Generator().manual_seed(seed)
        self.k = k
        self.mean = spread * torch.randn(k, *shape, generator=g)
        per_class = torch.linspace(*scales, k).view(k, *(1,) * len(shape))
        self.std = per_class * (0.8 + 0.4 * torch.rand(k, *shape, generator=g))
        self.alphas_cumprod = ddpm_alphas_cumprod() if alphas_cumprod is None else alphas_cumprod

    def eps(self, x_t: Tensor, t: Tensor, c: Tensor) -> Tensor:
        """The exact noise predictor ``ε(x_t, t, c)``, the classifier's callable."""
        a = self.alphas_cumprod.to(x_t)[t].view(-1, *(1,) * (x_t.ndim - 1))
        mean, std = self.mean.to(x_t)[c], self.std.to(x_t)[c]
        return (1 - a).sqrt() * (x_t - a.sqrt() * mean) / (a * std**2 + 1 - a)

    def sample(self, n: int, seed: int = 1) -> tuple[Tensor, Tensor]:
        """``n`` images mapped to [0, 1] as freqprobe models take them (``(x + 1) / 2``,
        not clipped) and their classes, balanced."""
        g = torch.Generator().manual_seed(seed)
        labels = torch.arange(n) % self.k
        x = self.mean[labels] + self.std[labels] * torch.randn(n, *self.mean.shape[1:], generator=g)
        return (x + 1) / 2, labels

    def log_density(self, images: Tensor) -> Tensor:
        """``(N, k)`` exact ``log p(x | c)`` of images in [0, 1] (densities of ``x = 2 · image − 1``)."""
        x = 2 * images - 1
        return torch.stack([torch.distributions.Normal(self.mean[c], self.std[c]).log_prob(x).flatten(1).sum(1)
                            for c in range(self.k)], dim=1)  # fmt: skip
