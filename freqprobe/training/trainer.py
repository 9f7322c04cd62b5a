"""Training and scoring a classifier on one variant of the images."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..errors import TrainingError
from ..models import Classifier
from ..transforms import Transform
from .data import LabelledImages
from .recipe import Recipe
from .stacking import plan_stacking, weigh_network

#: A filtered training set up to this size (float32) is computed once and kept on the
#: device; a larger one (50k images of 256 px, say) is filtered batch by batch.
RESIDENT_BYTES = 1 << 30


class FilteredImages:
    """The samples of ``data`` seen through ``transform``, as float batches on ``device``."""

    def __init__(self, data: LabelledImages, transform: Transform, device: torch.device) -> None:
        self.data, self.transform, self.device = data, transform, device
        channels, height, width = transform.output_shape((3, *data.image_size))
        self.resident: Tensor | None = None  # (N, H, W, C): a gathered batch is channels-last as it is
        if len(data) * channels * height * width * 4 <= RESIDENT_BYTES:
            self.resident = torch.empty((len(data), height, width, channels), device=device)
            start = 0
            for x, index, _ in data.batches(1024, device):
                self.resident[start : start + len(x)] = transform(x, index).permute(0, 2, 3, 1)
                start += len(x)
        self.label = data.label.to(device)

    def batch(self, positions: Tensor) -> tuple[Tensor, Tensor]:
        """Images (channels-last) and labels of the samples at ``positions``."""
        positions = positions.to(self.device)
        if self.resident is not None:
            return self.resident[positions].permute(0, 3, 1, 2), self.label[positions]
        x, index, _ = self.data.gather(positions, self.device)
        return self.transform(x, index).contiguous(memory_format=torch.channels_last), self.label[positions]

    def __len__(self) -> int:
        return len(self.data)

    def batches(self, batch_size: int) -> Iterator[tuple[Tensor, Tensor]]:
        """``(images, labels)`` in order."""
        for start in range(0, len(self.data), batch_size):
            yield self.batch(torch.arange(start, min(start + batch_size, len(self.data))))


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    """A random order of ``range(n)`` cut into batches; a last batch of one joins the one
    before (BatchNorm cannot normalise a single image with a 1x1 feature map)."""
    batches = list(torch.randperm(n, generator=generator).split(batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2:] = [torch.cat(batches[-2:])]
    return batches


def train_classifier(
    model: Classifier,
    images: FilteredImages,
    recipe: Recipe,
    seed: int,
    device: torch.device,
    progress: bool = False,
) -> Classifier:
    """Train ``model`` on the filtered training ``images``; returns it in eval mode.

    The input standardisation (and whitening stem) is fitted on the training inputs first,
    then the spectral read-out, if the model has one: the network is then trained on the
    sum of its logits and the read-out's held-out ones, and weighed on training images it
    did not see (``stacking.py``). The batch order (and the read-out's folds) come from
    ``seed``; the caller seeds the initialisation. Model and batches are channels-last
    (about 1.6x faster convolutions on CPU, and the layout tensor cores want).
    """
    model.to(device, memory_format=torch.channels_last)
    model.fit_input(lambda: (x for x, _ in images.batches(1024)))
    stacking = plan_stacking(model, images.batches(1024), images.label, seed)
    n = len(stacking.fit)
    batch_size, epochs = recipe.schedule(n)
    optimizer, schedule = optimizer_and_schedule(model.parameters(), recipe, n)
    order = torch.Generator().manual_seed(seed)
    finite = torch.ones((), dtype=torch.bool, device=device)  # checked once an epoch: no sync per step
    model.train()
    for epoch in tqdm(range(epochs), desc="epochs", leave=False, disable=None if progress else True):
        for batch in shuffled_batches(n, batch_size, order):
            positions = stacking.fit[batch]
            x, label = images.batch(positions)
            logits = model(x, stacking.readout_logits(positions))
            loss = F.cross_entropy(logits, label, label_smoothing=recipe.label_smoothing)
            finite &= torch.isfinite(loss.detach())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        if not bool(finite):
            raise non_finite_loss(epoch, epochs)
    recalibrate_batchnorm(model, (images.batch(stacking.fit[b])[0] for b in shuffled_batches(n, batch_size, order)))
    weigh_network(model, images, stacking)
    return model.eval()


def optimizer_and_schedule(parameters, recipe: Recipe, n: int):
    """AdamW and its one-cycle schedule (linear warm-up, linear decay) for ``n`` training images."""
    batch_size, epochs = recipe.schedule(n)
    optimizer = torch.optim.AdamW(parameters, lr=recipe.lr, weight_decay=recipe.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=recipe.lr,
        total_steps=epochs * math.ceil(n / batch_size),
        pct_start=recipe.warmup,
        anneal_strategy="linear",
    )
    return optimizer, schedule


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterator[Tensor]) -> None:
    """Replace BatchNorm running statistics by their average over one pass of ``batches``.

    Running averages with momentum lag behind weights that moved fast in a short run;
    in eval mode stale statistics shift every logit, which costs accuracy even when the
    ranking (AUC) is right. One forward pass over the training set, in shuffled batches of
    the training size (so each batch mixes the classes as in training), fixes that.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for x in batches:
        model(x)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


@torch.no_grad()
def predict_proba(
    model: Classifier, data: LabelledImages, transform: Transform, device: torch.device, batch_size: int = 512
) -> Tensor:
    """Class probabilities ``(N, K)`` (CPU, float64) of ``model`` on ``transform(images)``."""
    model.eval()
    parts = []
    for x, index, _ in data.batches(batch_size, device):
        logits = model(transform(x, index).contiguous(memory_format=torch.channels_last))
        parts.append(torch.softmax(logits.double(), dim=1).cpu())
    probabilities = torch.cat(parts)
    check_finite_scores(probabilities, "the trained model")
    return probabilities


def non_finite_loss(epoch: int, epochs: int) -> TrainingError:
    """The error that stops a run whose training loss went NaN or infinite in ``epoch`` (from 0)."""
    return TrainingError(
        f"the training loss is not a finite number (epoch {epoch + 1} of {epochs}): the model's outputs "
        "are NaN or infinite, or training diverged; check the model, or lower the learning rate (Recipe(lr=))"
    )


def check_finite_scores(probabilities: Tensor, what: str) -> None:
    """A ``TrainingError`` if any image's class probabilities are not finite (no accuracy from NaN)."""
    bad = int((~torch.isfinite(probabilities)).any(dim=1).sum())
    if bad:
        raise TrainingError(
            f"{what} gives NaN or infinite scores for {bad} of {len(probabilities)} test images; its accuracy "
            "would mean nothing"
        )
