"""Training and scoring a classifier on one variant of the images."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..models import Classifier
from ..transforms import Transform
from .data import LabelledImages
from .recipe import Recipe


def train_classifier(
    model: Classifier,
    data: LabelledImages,
    transform: Transform,
    recipe: Recipe,
    seed: int,
    device: torch.device,
    progress: bool = False,
) -> Classifier:
    """Train ``model`` on ``transform(images)`` of ``data``; returns it in eval mode.

    The transform is applied per batch on the device, so no filtered copy of the set is
    ever held. The batch order comes from ``seed``; the caller seeds the initialisation.
    """
    model.to(device)
    model.fit_normalization(transform(x, index) for x, index, _ in data.batches(1024, device))
    batch_size, epochs = recipe.schedule(len(data))
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=recipe.lr,
        total_steps=epochs * math.ceil(len(data) / batch_size),
        pct_start=recipe.warmup,
        anneal_strategy="linear",
    )
    order = torch.Generator().manual_seed(seed)
    model.train()
    for _ in tqdm(range(epochs), desc="epochs", leave=False, disable=not progress):
        permutation = torch.randperm(len(data), generator=order)
        for start in range(0, len(data), batch_size):
            x, index, label = data.gather(permutation[start : start + batch_size], device)
            loss = F.cross_entropy(model(transform(x, index)), label, label_smoothing=recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    recalibrate_batchnorm(model, data, transform, device)
    return model.eval()


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, data: LabelledImages, transform: Transform, device: torch.device) -> None:
    """Replace BatchNorm running statistics by exact averages over the training images.

    Running averages with momentum lag behind weights that moved fast in a short run;
    in eval mode stale statistics shift every logit, which costs accuracy even when the
    ranking (AUC) is right. One forward pass over the training set fixes that.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for x, index, _ in data.batches(512, device):
        model(transform(x, index))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


@torch.no_grad()
def predict_proba(
    model: Classifier, data: LabelledImages, transform: Transform, device: torch.device, batch_size: int = 512
) -> Tensor:
    """Class probabilities ``(N, K)`` (CPU, float64) of ``model`` on ``transform(images)``."""
    model.eval()
    parts = [torch.softmax(model(transform(x, index)).double(), dim=1).cpu() for x, index, _ in data.batches(batch_size, device)]
    return torch.cat(parts)
