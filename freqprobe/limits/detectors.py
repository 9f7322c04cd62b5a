"""The detectors an audiogram measures: the study's network and its linear second opinion.

A detector turns a planted task (training and test images, two classes) into the number of
test images it classified correctly. ``identity`` names everything its answer depends on
(it is part of each stored evaluation's key).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import torch

from .._version import __version__
from ..ablation.tasks import Task
from ..models import build_classifier
from ..training import FilteredImages, LinearProbe, Recipe, predict_proba, train_classifier
from ..transforms import transform


class Detector(Protocol):
    """Anything with an ``identity`` and a ``correct(task, seed, device)``."""

    @property
    def identity(self) -> dict[str, Any]: ...

    def correct(self, task: Task, seed: int, device: torch.device) -> int:
        """How many of ``task.test`` it classifies correctly after fitting on ``task.train``."""
        ...


@dataclasses.dataclass(frozen=True)
class NetworkDetector:
    """A classifier trained as ``fp.ablate`` trains it (``model``, ``recipe``), on the originals."""

    model: str
    recipe: Recipe

    @property
    def identity(self) -> dict[str, Any]:
        return {"detector": "network", "model": self.model, "recipe": dataclasses.asdict(self.recipe), "version": __version__}

    def correct(self, task: Task, seed: int, device: torch.device) -> int:
        original = transform("original")
        images = FilteredImages(task.train, original, device)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            net = build_classifier(self.model, 2, (3, *task.train.image_size), self.recipe.whiten, self.recipe.readout)
            train_classifier(net, images, self.recipe, seed, device)
        predicted = predict_proba(net, task.test, original, device).argmax(1)
        return int((predicted == task.test.label).sum())


@dataclasses.dataclass(frozen=True)
class LinearDetector:
    """The linear second opinion (``training/linear.py``); deterministic, so the seed plays no part."""

    @property
    def identity(self) -> dict[str, Any]:
        return {"detector": "linear", "version": __version__}

    def correct(self, task: Task, seed: int, device: torch.device) -> int:
        probe = LinearProbe().fit(((x, y) for x, _, y in task.train.batches(1024, device)), 2)
        predicted = torch.cat([probe.predict_proba(x).argmax(1) for x, _, _ in task.test.batches(1024, device)])
        return int((predicted == task.test.label).sum())
