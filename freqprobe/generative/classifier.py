"""``fp.diffusion_classifier``: a class-conditional noise predictor as a classifier.

Li et al. ("Your Diffusion Model is Secretly a Zero-Shot Classifier", ICCV 2023) score a
class ``c`` by how well the model denoises the image when told ``c``: the mean over
``(t, ε)`` pairs of ``‖ε − ε̂(√ᾱ_t x₀ + √(1−ᾱ_t) ε, t, c)‖²`` estimates the diffusion loss,
a bound on ``−log p(x₀ | c)``. One fixed set of pairs, shared by every class (and here by
every image), makes the differences between classes far less noisy than their errors.
Their adaptive schedule scores every class on a first share of the pairs, keeps the best
few, and spends the rest of the budget on those.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..errors import FreqprobeError
from ..transforms.keyed_random import keyed_normal
from .adapters import VaeEncoder, class_conditions, wrap_denoiser
from .schedule import resolve_schedule, timestep_weights

#: Classes kept after the first stage (Li et al. keep 5 of 37 to 1000 classes).
DEFAULT_KEEP = 5
#: Denoiser evaluations per image by default.
DEFAULT_BUDGET = 1000
PREDICTIONS = ("epsilon", "v_prediction", "sample")


@dataclasses.dataclass(frozen=True)
class Stage:
    """Pairs ``[start, stop)`` scored for every class still in the running, after which
    the best ``keep`` classes go on."""

    start: int
    stop: int
    keep: int


def plan_stages(budget: int, n_classes: int, keep: int = DEFAULT_KEEP) -> tuple[Stage, ...]:
    """Stages that spend at most ``budget`` evaluations per image.

    With more classes than ``keep`` and a budget of at least twice the classes, half the
    budget scores every class and the other half the ``keep`` best (Li et al.'s split:
    50 pairs for all classes, 450 more for the best 5); otherwise every class gets
    ``budget // n_classes`` pairs.

    >>> plan_stages(100, 4)
    (Stage(start=0, stop=25, keep=4),)
    >>> plan_stages(400, 10, keep=2)
    (Stage(start=0, stop=20, keep=2), Stage(start=20, stop=120, keep=2))
    """
    if budget < n_classes:
        raise FreqprobeError(f"budget {budget} is below one evaluation per class ({n_classes} classes)")
    if keep < 1:
        raise FreqprobeError(f"keep must be at least 1, got {keep}")
    first = budget // (2 * n_classes)
    if n_classes <= keep or first < 1:
        return (Stage(0, budget // n_classes, n_classes),)
    rest = (budget - first * n_classes) // keep
    return Stage(0, first, keep), Stage(first, first + rest, keep)


def stage_timesteps(stages: Sequence[Stage], weights: Tensor, seed: int) -> Tensor:
    """The timestep of every pair, drawn in proportion to ``weights`` by stratified
    sampling: within each stage, ``m`` equal strata of the weights' cumulative sum, read
    at one offset shared by the strata and drawn from ``seed`` (randomised quasi-Monte
    Carlo: Li et al.'s evenly spaced timesteps, shifted at random, so that the mean error
    is an unbiased estimate of the weighted integral at any budget). Each stage alone thus
    covers the whole schedule; drawing ``t`` by its weight, rather than weighting evenly
    spaced errors, keeps the variance down where the weights peak."""
    cumulative = torch.cumsum(weights.double(), 0)
    cumulative = cumulative / cumulative[-1]
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for stage in stages:
        count = stage.stop - stage.start
        offset = torch.rand(1, generator=generator, dtype=torch.float64)
        quantiles = (torch.arange(count, dtype=torch.float64) + offset) / count
        parts.append(torch.searchsorted(cumulative, quantiles, right=True))
    return torch.cat(parts).clamp_(0, len(weights) - 1)


class DiffusionClassifier(nn.Module):
    """Images in [0, 1] ``(N, 3, H, W)`` to logits ``(N, K)``: minus the weighted mean
    denoising error of each class over fixed ``(t, ε)`` pairs; ``-inf`` for a class
    dropped at an earlier stage (it was not scored on the later pairs).

    Built by ``diffusion_classifier``; ``class_names`` names the outputs in order.
    """

    def __init__(self, denoiser: nn.Module, class_names: tuple[str, ...], alphas_cumprod: Tensor,
                 weights: Tensor, stages: tuple[Stage, ...], *, encoder: nn.Module | None, seed: int,
                 value_range: tuple[float, float], prediction: str, batch_size: int,
                 progress: bool) -> None:  # fmt: skip
        super().__init__()
        self.denoiser, self.encoder = denoiser, encoder
        self.class_names = class_names
        self.stages, self.seed, self.value_range = stages, seed, value_range
        self.prediction, self.batch_size, self.progress = prediction, batch_size, progress
        self.register_buffer("alphas_cumprod", alphas_cumprod.float(), persistent=False)
        self.register_buffer("timesteps", stage_timesteps(stages, weights, seed), persistent=False)
        self.mean_weight = float(weights.mean())  #: timesteps are drawn by weight, each pair counts alike

    @property
    def evaluations(self) -> int:
        """Denoiser evaluations per image."""
        alive = len(self.class_names)
        total = 0
        for stage in self.stages:
            total += alive * (stage.stop - stage.start)
            alive = min(alive, stage.keep)
        return total

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise FreqprobeError(f"diffusion classifier: expected images (N, C, H, W), got shape {tuple(x.shape)}")
        low, high = self.value_range
        z0 = x * (high - low) + low
        if self.encoder is not None:
            z0 = self.encoder(z0)
        n, k = len(z0), len(self.class_names)
        sums = z0.new_zeros(n, k)
        alive = torch.ones(n, k, dtype=torch.bool, device=z0.device)
        with tqdm(total=self.evaluations * n, desc="diffusion classifier", unit="eval", leave=False,
                  disable=not self.progress or self.evaluations * n <= self.batch_size) as bar:  # fmt: skip
            for stage in self.stages:
                sums = sums + self._stage_errors(z0, alive, stage, bar)
                scores = -sums / stage.stop
                if stage.keep < k:
                    ranked = scores.masked_fill(~alive, -math.inf).topk(min(stage.keep, k), dim=1).indices
                    alive = torch.zeros_like(alive).scatter_(1, ranked, True) & alive
        return torch.where(alive, -sums / self.stages[-1].stop, torch.full_like(sums, -math.inf))

    def _stage_errors(self, z0: Tensor, alive: Tensor, stage: Stage, bar: Any) -> Tensor:
        """``(N, K)`` sums of the weighted errors over the stage's pairs, for live classes."""
        images, classes = alive.nonzero(as_tuple=True)
        pairs = torch.arange(stage.start, stage.stop, device=z0.device)
        # pair-major order: a chunk touches few pairs, whose noise is drawn once per chunk
        pair_of = pairs.repeat_interleave(len(images))
        image_of, class_of = images.repeat(len(pairs)), classes.repeat(len(pairs))
        sums = z0.new_zeros(alive.shape)
        for begin in range(0, len(pair_of), self.batch_size):
            chunk = slice(begin, begin + self.batch_size)
            errors = self._errors(z0, image_of[chunk], pair_of[chunk], class_of[chunk])
            sums = sums.index_put((image_of[chunk], class_of[chunk]), errors, accumulate=True)
            bar.update(len(errors))
        return sums

    def _errors(self, z0: Tensor, image: Tensor, pair: Tensor, k: Tensor) -> Tensor:
        """Weighted mean squared noise-prediction errors of one chunk of evaluations."""
        unique, inverse = pair.unique(return_inverse=True)
        shape = tuple(z0.shape[1:])
        noise = keyed_normal(self.seed, unique.cpu(), shape, "diffusion-classifier").to(z0)[inverse]
        t = self.timesteps[pair]
        a = self.alphas_cumprod[t].view(-1, *(1,) * len(shape)).to(z0)
        noisy = a.sqrt() * z0[image] + (1 - a).sqrt() * noise
        predicted = torch.as_tensor(self.denoiser(noisy, t, k))
        if predicted.shape[1] == 2 * shape[0]:  # a learned variance rides along (ADM, DiT)
            predicted = predicted[:, : shape[0]]
        if predicted.shape != noisy.shape:
            shapes = f"{tuple(predicted.shape)} for inputs {tuple(noisy.shape)}"
            raise FreqprobeError(f"the denoiser returned shape {shapes}; it must predict the noise's shape")
        predicted = predicted.to(z0.dtype)
        if self.prediction == "v_prediction":
            predicted = a.sqrt() * predicted + (1 - a).sqrt() * noisy
        elif self.prediction == "sample":
            predicted = (noisy - a.sqrt() * predicted) / (1 - a).sqrt()
        error = (predicted - noise).square().flatten(1).mean(dim=1)
        return error * self.mean_weight

    def extra_repr(self) -> str:
        return (f"classes={len(self.class_names)}, evaluations={self.evaluations}, stages={len(self.stages)}, "
                f"prediction={self.prediction}, seed={self.seed}")  # fmt: skip


def diffusion_classifier(
    denoiser: Any,
    classes: Sequence[str] | Mapping[str, Any],
    *,
    schedule: Any = None,
    budget: int = DEFAULT_BUDGET,
    seed: int = 0,
    keep: int = DEFAULT_KEEP,
    weighting: str | Sequence[float] | Tensor = "uniform",
    vae: nn.Module | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    prediction: str | None = None,
    batch_size: int = 64,
    progress: bool = True,
) -> DiffusionClassifier:
    """A classifier from a class-conditional diffusion model (Li et al., 2023).

    Args:
        denoiser: a callable ``ε(x_t, t, c)`` (``x_t`` ``(B, C, H, W)``, ``t`` integer
            timesteps ``(B,)``, ``c`` class labels ``(B,)``) returning the predicted noise,
            where ``x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε``; a diffusers ``UNet2DModel`` with class
            embeddings; or a ``UNet2DConditionModel``, conditioned on text embeddings.
        classes: class names (label ``k`` for the ``k``-th), or a mapping name -> the
            denoiser's label (a subset of its classes), or name -> text embedding ``(L, D)``
            for a ``UNet2DConditionModel`` (computed by its text encoder beforehand).
        schedule: ``alphas_cumprod`` (1-D), or a diffusers scheduler; default the DDPM
            linear schedule of 1000 steps (betas 1e-4 to 0.02).
        budget: denoiser evaluations per image, over all classes.
        seed: the seed of the noise; the classifier is a fixed function of the image.
        keep: classes kept after the first half of the budget (more classes than ``keep``
            turn on the adaptive elimination; ``keep >= len(classes)`` turns it off).
        weighting: over timesteps, ``"uniform"`` (Li et al.), ``"elbo"`` (the variational
            bound's weighting: logits ``log p(x | c) / D`` up to a shared constant) or one
            non-negative weight per timestep.
        vae: an ``AutoencoderKL`` for latent diffusion: images are encoded (posterior mean,
            times its scaling factor) and the latents denoised.
        value_range: the range images in [0, 1] are mapped to before the model (or VAE).
        prediction: what the denoiser predicts, ``epsilon``, ``v_prediction`` or
            ``sample`` (default: the scheduler's ``prediction_type``, else ``epsilon``).
        batch_size: denoiser evaluations per call; progress: a progress bar per batch.

    Returns:
        A ``DiffusionClassifier`` (an ``nn.Module`` with ``class_names``) that ``fp.probe``,
        ``freqprobe probe --model module:factory`` and ``fp.attribute`` take like any model.
    """
    names, conditions = class_conditions(classes)
    alphas_cumprod, scheduler_prediction = resolve_schedule(schedule)
    prediction = prediction or scheduler_prediction or "epsilon"
    if prediction not in PREDICTIONS:
        raise FreqprobeError(f"unknown prediction {prediction!r}; known: {', '.join(PREDICTIONS)}")
    if batch_size < 1:
        raise FreqprobeError(f"batch_size must be at least 1, got {batch_size}")
    low, high = value_range
    if not high > low:
        raise FreqprobeError(f"value_range must be (low, high) with low < high, got {value_range}")
    stages = plan_stages(int(budget), len(names), keep)
    return DiffusionClassifier(
        wrap_denoiser(denoiser, conditions), names, alphas_cumprod, timestep_weights(weighting, alphas_cumprod),
        stages, encoder=None if vae is None else VaeEncoder(vae), seed=seed, value_range=(float(low), float(high)),
        prediction=prediction, batch_size=batch_size, progress=progress,
    )  # fmt: skip
