"""Noise schedules: the cumulative products ``alphas_cumprod`` of a discrete diffusion, and
the weightings over their timesteps that a diffusion classifier averages errors with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ..errors import FreqprobeError

#: The DDPM schedule (Ho et al., 2020) as diffusers' ``DDPMScheduler()`` defines it.
DDPM_STEPS, DDPM_BETA_START, DDPM_BETA_END = 1000, 1e-4, 0.02
#: Named weightings over timesteps.
WEIGHTINGS = ("uniform", "elbo")


def ddpm_alphas_cumprod(steps: int = DDPM_STEPS, beta_start: float = DDPM_BETA_START,
                        beta_end: float = DDPM_BETA_END) -> Tensor:  # fmt: skip
    """``alphas_cumprod`` of the linear beta schedule, in float32 as diffusers computes it.

    >>> a = ddpm_alphas_cumprod()
    >>> a.shape, round(float(a[0]), 6)
    (torch.Size([1000]), 0.9999)
    """
    betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float32)
    return torch.cumprod(1.0 - betas, dim=0)


def resolve_schedule(schedule: Any) -> tuple[Tensor, str | None]:
    """``(alphas_cumprod, prediction_type)`` of ``schedule``: ``None`` (the DDPM schedule),
    a diffusers scheduler (its ``alphas_cumprod`` and ``config.prediction_type``) or the
    values themselves (a 1-D tensor or sequence in (0, 1], decreasing)."""
    prediction = None
    if schedule is None:
        return ddpm_alphas_cumprod(), None
    if hasattr(schedule, "alphas_cumprod"):
        prediction = getattr(getattr(schedule, "config", None), "prediction_type", None)
        schedule = schedule.alphas_cumprod
    try:
        values = torch.as_tensor(schedule, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError):
        raise FreqprobeError(
            f"schedule: expected alphas_cumprod (a 1-D tensor) or a diffusers scheduler, got {type(schedule).__name__}"
        ) from None
    if values.ndim != 1 or len(values) < 2:
        shape = tuple(values.shape)
        raise FreqprobeError(f"schedule: alphas_cumprod must be 1-D with at least 2 steps, got shape {shape}")
    if not bool(((values > 0) & (values <= 1)).all()) or not bool((values[1:] <= values[:-1]).all()):
        raise FreqprobeError("schedule: alphas_cumprod must lie in (0, 1] and decrease with the timestep")
    return values.float(), prediction


def timestep_weights(weighting: str | Sequence[float] | Tensor, alphas_cumprod: Tensor) -> Tensor:
    """One weight per timestep (float64).

    - ``uniform``: 1 everywhere, Li et al.'s choice (minus the plain mean error);
    - ``elbo``: ``T/2 · |dλ/dt|`` with ``λ = log(ᾱ/(1-ᾱ))`` the log signal-to-noise ratio, so
      the weighted mean of the per-element error is ``½∫ error dλ`` (Kingma et al., 2021):
      with an exact noise predictor, minus it is ``log p(x | c) / D`` up to a constant
      shared by the classes (D the number of elements of ``x``);
    - a sequence of ``T`` non-negative weights.

    The classifier draws timesteps in proportion to these weights (``elbo``: evenly in λ).
    """
    steps = len(alphas_cumprod)
    if isinstance(weighting, str):
        if weighting == "uniform":
            return torch.ones(steps, dtype=torch.float64)
        if weighting == "elbo":
            a = alphas_cumprod.double()
            log_snr = torch.log(a) - torch.log1p(-a)
            return 0.5 * steps * (-torch.gradient(log_snr)[0])
        raise FreqprobeError(f"unknown weighting {weighting!r}; known: {', '.join(WEIGHTINGS)}, or {steps} weights")
    weights = torch.as_tensor(weighting, dtype=torch.float64).detach().cpu()
    if weights.shape != (steps,) or not bool((weights >= 0).all()) or not bool(weights.sum() > 0):
        raise FreqprobeError(f"weighting: expected {steps} non-negative weights (one per timestep), not all 0")
    return weights
