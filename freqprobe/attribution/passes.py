"""The passes of ``fp.attribute`` over the chosen images: batches with targets (and the
swapped-band references), pixel maps, the Fourier heat map and the sensitivity profile."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from ..data import ImageSet
from .fourier_maps import fourier_heatmap, radial_profile
from .pixel_maps import pixel_maps
from .report import CLASS_NAMES
from .scores import DecisionScores, Target

#: Pixel-map examples drawn per class in the per-image figures.
SHOWN_PER_CLASS = 4
#: Keeps the references' draw apart from the images' draw of the same ``sample_seed``.
REFERENCE_SEED_OFFSET = 7919


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's global generators for the block and restore them after (the caller's RNG is untouched)."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def swap_references(sets: list[ImageSet], seed: int) -> list[Tensor]:
    """For every image, the position of its reference in the other class's set (``baseline="swap"``).

    Each class cycles through a seeded permutation of the other class, so with equal counts
    every image is some image's reference exactly once.
    """
    generator = torch.Generator().manual_seed(seed + REFERENCE_SEED_OFFSET)
    chosen = []
    for own, other in ((sets[0], sets[1]), (sets[1], sets[0])):
        order = torch.randperm(len(other), generator=generator)
        chosen.append(order[torch.arange(len(own)) % len(other)])
    return chosen


class Labelled:
    """The chosen real and fake images as batches of ``(float images, Captum targets[, labels | references])``."""

    def __init__(
        self,
        sets: list[ImageSet],
        target: Target,
        device: torch.device,
        batch: int,
        references: list[Tensor] | None = None,
    ) -> None:
        self.sets, self.target, self.device, self.batch = sets, target, device, batch
        self.references = references
        self.labels = torch.cat([torch.full((len(s),), k) for k, s in enumerate(sets)])

    def batches(
        self, with_labels: bool = False, per_class: int | None = None, with_references: bool = False
    ) -> Iterator[tuple[Tensor, ...]]:
        """``with_references``: band batches, ``(images, targets, references)`` for ``swap`` and
        ``(images, targets)`` for ``zero``."""
        for label, images in enumerate(self.sets):
            images = images if per_class is None else images[:per_class]
            for start, x in zip(range(0, len(images), self.batch), images.batches(self.batch, self.device)):
                labels = torch.full((x.shape[0],), label, device=self.device)
                targets = self.target.indices(labels)
                if with_references and self.references is not None:
                    positions = self.references[label][start : start + x.shape[0]]
                    yield x, targets, self.sets[1 - label][positions].float(self.device)
                else:
                    yield (x, targets, labels) if with_labels else (x, targets)


def pixel_results(
    scores: nn.Module,
    labelled: Labelled,
    methods: list[str],
    per_class: int,
    ig_steps: int,
    max_batch: int,
    layer: nn.Module | None,
) -> dict[str, np.ndarray]:
    """Mean maps per class over ``per_class`` images, and the maps of the first few of each class."""
    if not methods:
        return {}
    n_shown = min(SHOWN_PER_CLASS, per_class)
    shown = [images[:n_shown] for images in labelled.sets]
    results = {
        "shown_images": torch.cat([s.images for s in shown]).cpu().numpy(),
        "shown_labels": np.concatenate([np.full(len(s), k) for k, s in enumerate(shown)]),
    }
    height, width = labelled.sets[0].size
    for method in methods:
        sums, counts = torch.zeros(2, height, width, dtype=torch.float64), torch.zeros(2)
        first: list[list[Tensor]] = [[], []]  # the maps of the shown images, per class
        for x, targets, labels in labelled.batches(with_labels=True, per_class=per_class):
            maps = pixel_maps(scores, x, targets, method, ig_steps=ig_steps, max_batch=max_batch, layer=layer)
            label = int(labels[0])  # a batch holds one class
            sums[label] += maps.double().sum(dim=0)
            first[label].append(maps[: max(0, n_shown - int(counts[label]))])
            counts[label] += maps.shape[0]
        results[f"pixel_mean_{method}"] = (sums / counts.clamp_min(1)[:, None, None]).numpy()
        results[f"pixel_{method}"] = torch.cat([*first[0], *first[1]]).numpy()
    return results


def heatmap_maps(
    scores: DecisionScores,
    shown: list[ImageSet],
    classes: Sequence[int],
    eps: float,
    max_batch: int,
    generator: torch.Generator,
    device: torch.device,
) -> tuple[Tensor, Tensor]:
    """Yin et al.'s heat map of ``scores.model`` (through the variant) on the real and fake ``shown`` images."""
    x = torch.cat([s.float(device) for s in shown])
    labels = torch.cat([torch.full((len(s),), k) for k, s in enumerate(shown)])
    return fourier_heatmap(scores.logits, x, torch.tensor(tuple(classes))[labels], labels, eps, max_batch, generator)


def profile_table(sensitivity: Tensor) -> pd.DataFrame:
    """``sensitivity.csv``: the radial profile of each class's Fourier sensitivity map."""
    frequencies, profile = radial_profile(sensitivity)
    return pd.DataFrame(
        {
            "class": np.repeat(CLASS_NAMES, len(frequencies)),
            "f": np.tile(frequencies.numpy(), len(CLASS_NAMES)),
            "sensitivity": profile.numpy().ravel(),
        }
    )
