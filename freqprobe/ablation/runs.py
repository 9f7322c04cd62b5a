"""One run of a study: train on a variant, score on one or more variants.

A run is a pure function of its ``RunSpec`` (task, data fingerprints, split, training
variant, seed, model, recipe): its key hashes exactly that, so finished runs are reused,
an interrupted study resumes, and runs could be shipped to any worker as they are.
The test variants are not part of the key: a model trained once (say on the originals)
serves every variant it is later scored on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..errors import FreqprobeError, TrainingError
from ..io import atomic_path
from ..models import Classifier, build_classifier
from ..stats import binomial_p_value, roc_auc, wilson_interval
from ..training import FilteredImages, LinearProbe, Recipe, predict_proba, train_classifier
from ..training.trainer import check_finite_scores
from ..transforms import Transform, transform
from ..transforms.representations import image_stages
from .tasks import Task


#: A variant whose outputs stay below this everywhere leaves nothing to classify.
BLANK = 1e-6


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything a trained model depends on."""

    task: str
    classes: tuple[str, ...]
    data: tuple[str, ...]  # fingerprints of the image sets
    samples: str  # which images train and test (after split, balancing, null halves)
    variant: str  # what the model is trained on
    seed: int
    model: str
    recipe: Recipe
    version: str = __version__  # architectures and trainer change between versions

    @property
    def key(self) -> str:
        payload = json.dumps(dataclasses.asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def linear_key(self) -> str:
        """The linear probe's key: the same data and variant; seed, model and recipe play no part."""
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("seed", "model", "recipe")}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def evaluate(probabilities: torch.Tensor, labels: torch.Tensor, n_train: int) -> dict[str, Any]:
    """Accuracy with its Wilson 95% interval, the binomial p-value against chance, AUC."""
    k = probabilities.shape[1]
    predicted = probabilities.argmax(dim=1)
    correct = int((predicted == labels).sum())
    total = len(labels)
    low, high = wilson_interval(correct, total)
    scores = probabilities[:, 1].numpy() if k == 2 else probabilities.numpy()
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (labels.numpy(), predicted.numpy()), 1)
    return {
        "n_train": n_train,
        "n_test": total,
        "accuracy": correct / total,
        "ci_low": low,
        "ci_high": high,
        "p_value": binomial_p_value(correct, total, 1 / k),
        "auc": roc_auc(scores, labels.numpy()),
        "chance": 1 / k,
        "confusion": confusion.tolist(),
    }


class RunStore:
    """Finished runs: ``runs/<key>.json`` (spec and scores) and ``runs/<key>.pt`` (weights);
    linear probes keep their records in a second store, ``linear/<key>.json``.

    Both are written atomically, weights first, so a JSON file means a finished run. With
    no folder the store lives in memory (a notebook session that saves nothing).
    """

    def __init__(self, folder: str | os.PathLike | None, subfolder: str = "runs") -> None:
        self.folder = None if folder is None else Path(folder) / subfolder
        self._records: dict[str, dict[str, Any]] = {}
        self._models: dict[str, Classifier] = {}

    def record(self, key: str, weights: bool = True) -> dict[str, Any] | None:
        """A finished run's record; a damaged one (no weights, unreadable JSON) counts as unfinished."""
        if key not in self._records and self.folder is not None and (self.folder / f"{key}.json").exists():
            try:
                record = json.loads((self.folder / f"{key}.json").read_text())
            except (OSError, ValueError):
                return None
            if weights and not (self.folder / f"{key}.pt").exists():
                return None
            self._records[key] = record
        return self._records.get(key)

    def put(self, key: str, record: dict[str, Any], model: Classifier | None = None) -> None:
        """Store a record (and a model's weights, written first)."""
        self._records[key] = record
        if self.folder is None:
            if model is not None:
                self._models[key] = model.cpu()
            return
        if model is not None:
            with atomic_path(self.folder / f"{key}.pt") as partial:
                torch.save(model.state_dict(), partial)
        with atomic_path(self.folder / f"{key}.json") as partial:
            partial.write_text(json.dumps(record, indent=1))

    def model(self, key: str, device: torch.device) -> Classifier:
        """The trained classifier of a finished run (weights loaded with ``weights_only``)."""
        if key in self._models:
            return self._models[key].to(device)
        record = self.record(key)
        if record is None or self.folder is None:
            raise KeyError(f"no finished run {key}")
        spec = record["spec"]
        model = build_classifier(
            spec["model"], len(spec["classes"]), tuple(record["input_shape"]), spec["recipe"]["whiten"]
        )
        state = torch.load(self.folder / f"{key}.pt", map_location="cpu", weights_only=True)
        try:
            model.load_state_dict(state)
        except RuntimeError:
            raise FreqprobeError(
                f"{self.folder / key}.pt: weights of another architecture (a run of an older development "
                "version of freqprobe?); delete the file to retrain"
            ) from None
        model.class_names = tuple(spec["classes"])
        return model.to(device).eval()


def execute(
    spec: RunSpec,
    task: Task,
    test_variants: list[str],
    store: RunStore,
    views: TrainingViews,
    progress: bool = False,
) -> dict[str, Any]:
    """Train (unless finished before) and score on every test variant not scored yet."""
    device = views.device
    key = spec.key
    record = store.record(key)
    if record is not None and all(v in record["scores"] for v in test_variants):
        return record
    if record is None:
        start = time.perf_counter()
        images = views.get(task, transform(spec.variant))
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):  # the caller's RNG untouched
            torch.manual_seed(spec.seed)
            shape = images.transform.output_shape((3, *task.train.image_size))
            model = build_classifier(spec.model, len(spec.classes), shape, spec.recipe.whiten)
            with _naming(spec):
                train_classifier(model, images, spec.recipe, spec.seed, device, progress)
            model.class_names = tuple(spec.classes)
        record = {
            "spec": dataclasses.asdict(spec),
            "key": key,
            "freqprobe": __version__,
            "input_shape": list(shape),
            "train_seconds": round(time.perf_counter() - start, 2),
            "trained_on": trained_on(device),
            "scores": {},
        }
        fitted = {spec.variant: images.transform}
    else:
        model = store.model(key, device)
        fitted = {}
    missing = [v for v in test_variants if v not in record["scores"]]
    for variant in missing:
        # a fitted transform (power_equalize) learns its statistics from training images only
        test_transform = fitted.get(variant) or transform(variant).fit(TrainingBatches(task, device))
        with _naming(spec):
            probabilities = predict_proba(model, task.test, test_transform, device)
        record["scores"][variant] = evaluate(probabilities, task.test.label, len(task.train))
    store.put(key, record, model)
    return record


def execute_linear(spec: RunSpec, task: Task, test_variants: list[str], store: RunStore, views: TrainingViews):
    """The linear probe beside a run: fitted on the training images of ``spec.variant``
    (before any representation stage), scored on each test variant; shared by all seeds."""
    key = spec.linear_key
    record = store.record(key, weights=False) or {"key": key, "variant": spec.variant, "scores": {}}
    missing = [v for v in test_variants if v not in record["scores"]]
    if not missing:
        return record
    images = views.get(task, image_stages(transform(spec.variant)))
    probe = LinearProbe().fit(images.batches(1024), len(spec.classes))
    fitted = images.transform
    for variant in missing:
        t = image_stages(transform(variant))
        t = fitted if str(t) == str(fitted) else t.fit(TrainingBatches(task, views.device))
        batches = task.test.batches(1024, views.device)
        probabilities = torch.cat([probe.predict_proba(t(x, index)) for x, index, _ in batches])
        with _naming(spec):
            check_finite_scores(probabilities, "the linear probe")
        record["scores"][variant] = evaluate(probabilities, task.test.label, len(task.train))
    store.put(key, record)
    return record


def trained_on(device: torch.device) -> str:
    """Where a run was trained, as far as its numbers depend on it: the device, and on the
    CPU the thread count (float sums are split across threads differently: results are
    bit-identical only at one thread count)."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    threads = torch.get_num_threads()
    return f"{device.type} ({threads} thread{'' if threads == 1 else 's'})"


@contextlib.contextmanager
def _naming(spec: RunSpec) -> Iterator[None]:
    """A training error names the run it stopped (one line, as every error)."""
    try:
        yield
    except TrainingError as error:
        raise TrainingError(f"run {spec.task} {spec.variant} seed {spec.seed} ({spec.model}): {error}") from None


class TrainingViews:
    """A task's training images through one variant (its transform fitted on them), kept
    until another is asked for: the network and the linear probe of a run filter them once."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._task: Task | None = None  # the task object itself: its identity, not its name
        self._variant = ""
        self._images: FilteredImages | None = None

    def get(self, task: Task, variant: Transform) -> FilteredImages:
        """The training images of ``task`` through ``variant`` (fitted here unless cached)."""
        if task is not self._task or str(variant) != self._variant or self._images is None:
            self._task, self._images = None, None  # free the last view before filtering the next
            fitted = variant.fit(TrainingBatches(task, self.device))
            self._images = FilteredImages(task.train, fitted, self.device)
            self._task, self._variant = task, str(variant)
            resident = self._images.resident
            if resident is not None and len(resident) and float(resident.abs().amax()) < BLANK:
                warnings.warn(f"{variant} leaves the training images blank (|x| < {BLANK:g} everywhere)", stacklevel=2)
        return self._images


class TrainingBatches:
    """Training images as ``(index, float batch)`` pairs, re-iterable (for ``Transform.fit``)."""

    def __init__(self, task: Task, device: torch.device) -> None:
        self.task, self.device = task, device

    def __iter__(self):
        for x, index, _ in self.task.train.batches(1024, self.device):
            yield index, x
