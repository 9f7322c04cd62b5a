"""Gaussian mixtures with an exact denoiser: data whose score is known in closed form, for
proving a guidance (or a sampler) without a trained diffusion model."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from ..errors import FreqprobeError
from .guidance import NoiseSchedule


@dataclasses.dataclass(frozen=True)
class GaussianMixture:
    """``sum_k weights[k] N(means[k], sd^2 I)`` in ``D`` dimensions (``means``: ``(K, D)``)."""

    means: Tensor
    weights: Tensor
    sd: float

    def __post_init__(self) -> None:
        if self.means.ndim != 2 or self.weights.shape != (len(self.means),) or not self.sd > 0:
            raise FreqprobeError("a mixture needs means (K, D), weights (K,) and sd > 0")

    def sample(self, n: int, seed: int) -> Tensor:
        """``n`` samples ``(n, D)``, reproducible from ``seed``."""
        generator = torch.Generator().manual_seed(seed)
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        return self.means[component] + self.sd * torch.randn(n, self.means.shape[1], generator=generator)

    def eps(self, schedule: NoiseSchedule):
        """The exact noise prediction ``ε̂(x_t, t) = -s_t ∇ log p_t(x_t)`` under ``schedule``:
        ``x_t`` given component ``k`` is ``N(a_t μ_k, (a_t² sd² + s_t²) I)``."""

        def eps(x: Tensor, t: int) -> Tensor:
            a, s = schedule.alpha[t], schedule.sigma[t]
            variance = a**2 * self.sd**2 + s**2
            offset = x[:, None, :] - a * self.means[None]
            posterior = torch.softmax(self.weights.log()[None] - (offset**2).sum(-1) / (2 * variance), dim=1)
            return s * (posterior[..., None] * offset).sum(1) / variance

        return eps
