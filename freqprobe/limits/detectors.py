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
from ..execution import Job, JobResult, RunSpec, TrainingViews, run_job
from ..training import LinearProbe, Recipe


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
        return correct_of(run_job(self.job(task, seed, "audiogram"), TrainingViews(device)))

    def job(self, task: Task, seed: int, key: str) -> Job:
        """The training as an executor's job (trained on the originals, scored on them);
        ``key`` (the evaluation's) makes its run key unique among a round's jobs."""
        spec = RunSpec(task.name, task.classes, (key,), key, "original", seed, self.model, self.recipe)
        return Job(spec, task, ("original",))


def correct_of(result: JobResult) -> int:
    """How many test images a finished job classified correctly."""
    score = result.record["scores"]["original"]
    return round(score["accuracy"] * score["n_test"])


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
