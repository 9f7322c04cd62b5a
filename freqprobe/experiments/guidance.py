"""Realism guidance: a noise-aware real-vs-generated classifier that steers a diffusion
sampler toward the real distribution (classifier guidance, Dhariwal & Nichol 2021, with
"real" as the class).

The classifier sees ``x_t = a_t x_0 + s_t ε`` at a random step ``t`` of the sampler's own
noise schedule, and ``t`` itself; the guidance is ``g(x_t, t) = scale · ∇ log p(real | x_t, t)``.
In a sampler that predicts the noise ``ε̂``, guidance replaces it by ``ε̂ - s_t g(x_t, t)``
(a score model adds ``g`` to its score). A short deterministic DDIM sampler with that step:

    >>> import torch
    >>> schedule = NoiseSchedule.linear(50)
    >>> def sample(eps_model, guidance, x):        # x: pure noise, shape (N, ...)
    ...     for t in reversed(range(len(schedule))):
    ...         a, s = schedule.alpha[t], schedule.sigma[t]
    ...         eps = eps_model(x, t) - s * guidance(x, t)       # the guided noise estimate
    ...         x0 = (x - s * eps) / a
    ...         a_prev, s_prev = (schedule.alpha[t - 1], schedule.sigma[t - 1]) if t else (1.0, 0.0)
    ...         x = a_prev * x0 + s_prev * eps
    ...     return x
    >>> no_guidance = lambda x, t: torch.zeros_like(x)
    >>> sample(lambda x, t: schedule.sigma[t] * x, no_guidance, torch.randn(4, 2)).shape  # x0 ~ N(0, I)
    torch.Size([4, 2])

``ddim_sample`` is that loop. The data space is the sampler's: image sets (``ImageSet``)
are mapped to ``[-1, 1]`` as most diffusion models expect; tensors are used as given.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..data import ImageSet
from ..device import resolve_device
from ..errors import FreqprobeError

#: The classifier's output order: logit 0 is "generated", logit 1 is "real".
REAL = 1


@dataclasses.dataclass(frozen=True)
class NoiseSchedule:
    """``x_t = alpha[t] x_0 + sigma[t] ε`` for ``t = 0 .. T-1`` (``t = 0`` the least noisy)."""

    alpha: Tensor
    sigma: Tensor

    def __post_init__(self) -> None:
        if self.alpha.ndim != 1 or self.alpha.shape != self.sigma.shape or len(self.alpha) < 1:
            raise FreqprobeError("a noise schedule needs alpha and sigma of the same length (T,), T >= 1")

    @classmethod
    def from_alphas_cumprod(cls, alphas_cumprod: Tensor) -> NoiseSchedule:
        """A variance-preserving schedule from ᾱ_t (as ``diffusers`` schedulers hold it)."""
        alphas_cumprod = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
        return cls(alphas_cumprod.sqrt().float(), (1 - alphas_cumprod).sqrt().float())

    @classmethod
    def linear(cls, steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
        """DDPM's linear β schedule, rescaled to ``steps`` steps (Ho et al. 2020 at 1000)."""
        scale = 1000 / steps
        betas = torch.linspace(beta_start * scale, min(beta_end * scale, 0.999), steps, dtype=torch.float64)
        return cls.from_alphas_cumprod(torch.cumprod(1 - betas, 0))

    def __len__(self) -> int:
        return len(self.alpha)

    def noised(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """``a_t x0 + s_t noise`` with one step per sample (``t``: ``(N,)`` ints)."""
        shape = (-1,) + (1,) * (x0.ndim - 1)
        alpha, sigma = self.alpha.to(x0.device)[t].view(shape), self.sigma.to(x0.device)[t].view(shape)
        return alpha * x0 + sigma * noise


def step_features(t: Tensor, steps: int, n: int = 8) -> Tensor:
    """Fixed sinusoidal features ``(N, 2n)`` of the step ``t / steps``."""
    phase = (t.float() / steps)[:, None] * (math.pi * 2.0 ** torch.arange(n, device=t.device))[None]
    return torch.cat([phase.sin(), phase.cos()], dim=1)


class NoiseAwareClassifier(nn.Module):
    """Logits ``(N, 2)`` (generated, real) of ``x_t`` at step ``t``: an MLP for vectors
    ``(N, D)``, a small CNN for images ``(N, C, H, W)``; the step enters every layer."""

    def __init__(self, shape: tuple[int, ...], steps: int, width: int = 64) -> None:
        super().__init__()
        self.steps, self.image = steps, len(shape) == 3
        features = 16
        if self.image:
            self.layers = nn.ModuleList([nn.Conv2d(shape[0], width, 3, padding=1),
                                         nn.Conv2d(width, width, 3, stride=2, padding=1),
                                         nn.Conv2d(width, width, 3, stride=2, padding=1)])  # fmt: skip
        else:
            self.layers = nn.ModuleList([nn.Linear(shape[0], width), nn.Linear(width, width), nn.Linear(width, width)])
        self.steps_in = nn.ModuleList([nn.Linear(features, width) for _ in self.layers])
        self.head = nn.Linear(width, 2)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        step = step_features(t.expand(len(x)) if t.ndim == 0 else t, self.steps)
        for layer, step_in in zip(self.layers, self.steps_in):
            bias = step_in(step)
            x = F.silu(layer(x) + (bias[:, :, None, None] if self.image else bias))
        return self.head(x.mean(dim=(2, 3)) if self.image else x)


def as_data(images: ImageSet | Tensor) -> Tensor:
    """Float data in the sampler's space: an ``ImageSet`` mapped to ``[-1, 1]``, a tensor as given."""
    if isinstance(images, ImageSet):
        return images.images.float() / 127.5 - 1.0
    if not isinstance(images, Tensor) or images.ndim not in (2, 4):
        raise FreqprobeError("give an ImageSet, or a float tensor of vectors (N, D) or images (N, C, H, W)")
    return images.float()


def train_realism_classifier(
    real: ImageSet | Tensor,
    generated: ImageSet | Tensor,
    schedule: NoiseSchedule,
    *,
    model: nn.Module | None = None,
    iterations: int = 2000,
    batch_size: int = 256,
    lr: float = 2e-3,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> nn.Module:
    """Train ``model(x_t, t) -> (N, 2)`` logits to tell noised real from noised generated samples.

    Each batch draws as many real as generated samples, a step ``t`` uniformly per sample
    and fresh noise; AdamW with cosine decay. ``model`` defaults to a ``NoiseAwareClassifier``.
    Returns the model in eval mode.
    """
    real, generated = as_data(real), as_data(generated)
    if real.shape[1:] != generated.shape[1:]:
        raise FreqprobeError(f"real samples are {tuple(real.shape[1:])}, generated {tuple(generated.shape[1:])}")
    device = resolve_device(device)
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        model = (model or NoiseAwareClassifier(tuple(real.shape[1:]), len(schedule))).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, iterations)
    half = batch_size // 2
    labels = torch.cat([torch.zeros(half, dtype=torch.long), torch.ones(half, dtype=torch.long)]).to(device)
    for _ in tqdm(range(iterations), desc="realism classifier", disable=None if progress else True):
        x0 = torch.cat([generated[torch.randint(len(generated), (half,), generator=generator)],
                        real[torch.randint(len(real), (half,), generator=generator)]]).to(device)  # fmt: skip
        t = torch.randint(len(schedule), (2 * half,), generator=generator).to(device)
        noise = torch.randn(x0.shape, generator=generator).to(device)
        loss = F.cross_entropy(model(schedule.noised(x0, t, noise), t), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        decay.step()
    return model.eval()


class RealismGuidance:
    """``g(x_t, t) = scale · ∇_x log p(real | x_t, t)`` from a noise-aware classifier.

    Call it inside any sampler loop with the current sample and its step (an int or an
    ``(N,)`` tensor); it returns a tensor shaped like ``x_t``, detached.
    """

    def __init__(self, classifier: nn.Module, scale: float = 1.0) -> None:
        self.classifier, self.scale = classifier, float(scale)

    def log_prob_real(self, x_t: Tensor, t: int | Tensor) -> Tensor:
        """``log p(real | x_t, t)`` per sample, ``(N,)``."""
        t = torch.as_tensor(t, device=x_t.device).long()
        return F.log_softmax(self.classifier(x_t, t.expand(len(x_t)) if t.ndim == 0 else t), dim=1)[:, REAL]

    def __call__(self, x_t: Tensor, t: int | Tensor) -> Tensor:
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            (gradient,) = torch.autograd.grad(self.log_prob_real(x, t).sum(), x)
        return self.scale * gradient.detach()


def realism_guidance(
    real: ImageSet | Tensor,
    generated: ImageSet | Tensor,
    schedule: NoiseSchedule | None = None,
    scale: float = 1.0,
    **training,
) -> RealismGuidance:
    """Train a noise-aware real-vs-generated classifier on ``schedule`` (default DDPM's linear
    1000 steps) and return its guidance ``g(x_t, t)`` at ``scale``; ``training`` goes to
    ``train_realism_classifier``."""
    schedule = schedule or NoiseSchedule.linear()
    return RealismGuidance(train_realism_classifier(real, generated, schedule, **training), scale)


@torch.no_grad()
def ddim_sample(eps_model, noise: Tensor, schedule: NoiseSchedule, guidance=None) -> Tensor:
    """Deterministic DDIM (η = 0) over every step of ``schedule`` from ``noise``, with the
    guided noise estimate ``eps_model(x, t) - s_t · guidance(x, t)`` when ``guidance`` is given."""
    x = noise
    for t in reversed(range(len(schedule))):
        a, s = schedule.alpha[t], schedule.sigma[t]
        eps = eps_model(x, t)
        if guidance is not None:
            eps = eps - s * guidance(x, t)
        x0 = (x - s * eps) / a
        a_prev, s_prev = (schedule.alpha[t - 1], schedule.sigma[t - 1]) if t else (torch.tensor(1.0), torch.tensor(0.0))
        x = a_prev * x0 + s_prev * eps
    return x
