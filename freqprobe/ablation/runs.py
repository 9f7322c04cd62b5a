"""One run of a study: train on a variant, score on one or more variants.

A run is a pure function of its ``RunSpec`` (task, data fingerprints, split, training
variant, seed, model, recipe): its key hashes exactly that, so finished runs are reused,
an interrupted study resumes, and runs could be shipped to any worker as they are.
The test variants are not part of the key: a model trained once (say on the originals)
serves every variant it is later scored on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..errors import FreqprobeError
from ..io import atomic_path
from ..models import Classifier, build_classifier
from ..stats import binomial_p_value, roc_auc, wilson_interval
from ..training import FilteredImages, LinearProbe, Recipe, predict_proba, train_classifier
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

    Both are written atomically, weights first, so a JSON file means a finished run. A run
    whose record or weights are damaged (malformed JSON, a truncated ``.pt``) counts as
    unfinished: ``record`` warns once and gives ``None``, so the study recomputes it. With
    no folder the store lives in memory (a notebook session that saves nothing). One
    process writes a store at a time (``ablate`` holds ``io.folder_lock``).
    """

    def __init__(self, folder: str | os.PathLike | None, subfolder: str = "runs") -> None:
        self.folder = None if folder is None else Path(folder) / subfolder
        self._records: dict[str, dict[str, Any]] = {}
        self._models: dict[str, Classifier] = {}
        self._warned: set[str] = set()

    def record(self, key: str, weights: bool = True) -> dict[str, Any] | None:
        """A finished run's record; ``None`` for a run not stored, or damaged (with a warning)."""
        if key not in self._records:
            record, damage = self._read(key, weights)
            if damage is not None and key not in self._warned:
                self._warned.add(key)
                warnings.warn(f"{damage}: the run counts as unfinished (a study computes it again)", stacklevel=2)
            if record is not None:
                self._records[key] = record
        return self._records.get(key)

    def _read(self, key: str, weights: bool) -> tuple[dict[str, Any] | None, str | None]:
        """``(record, None)``, ``(None, None)`` for no stored run, or ``(None, what is damaged)``."""
        if self.folder is None or not (self.folder / f"{key}.json").exists():
            return None, None
        path = self.folder / f"{key}.json"
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as err:
            return None, f"{path}: damaged record ({type(err).__name__})"
        if not isinstance(record, dict) or not isinstance(record.get("scores"), dict):
            return None, f"{path}: damaged record (no scores)"
        if weights:
            damage = _weights_damage(self.folder / f"{key}.pt")
            if damage is not None:
                return None, damage
        return record, None

    def put(self, key: str, record: dict[str, Any], model: Classifier | None = None) -> None:
        """Store a record (and a model's weights, written first)."""
        self.put_state(key, record, None if model is None else model.state_dict(), model)

    def put_state(
        self, key: str, record: dict[str, Any], state: dict[str, torch.Tensor] | None, model: Classifier | None = None
    ) -> None:
        """Store a record and the weights ``state`` (a state dict, as a worker sends it back)."""
        self._records[key] = record
        self._warned.discard(key)
        if self.folder is None:
            if model is not None:
                self._models[key] = model.cpu()
            elif state is not None:
                self._models[key] = _classifier(record, state)
            return
        if state is not None:
            with atomic_path(self.folder / f"{key}.pt") as partial:
                torch.save(state, partial)
        with atomic_path(self.folder / f"{key}.json") as partial:
            partial.write_text(json.dumps(record, indent=1))

    def model(self, key: str, device: torch.device) -> Classifier:
        """The trained classifier of a finished run (weights loaded with ``weights_only``).

        Raises:
            KeyError: no such run; FreqprobeError: the run's record or weights are damaged.
        """
        if key in self._models:
            return self._models[key].to(device)
        record, damage = (self._records[key], None) if key in self._records else self._read(key, True)
        if damage is not None:
            raise FreqprobeError(f"{damage}; run the study's ablate command again to recompute it")
        if record is None or self.folder is None:
            raise KeyError(f"no finished run {key}")
        try:
            state = torch.load(self.folder / f"{key}.pt", map_location="cpu", weights_only=True)
        except Exception as err:  # unpickling fails in many ways
            raise FreqprobeError(
                f"{self.folder / key}.pt: damaged weights ({type(err).__name__}); run the study's ablate command "
                "again to recompute it"
            ) from None
        return _classifier(record, state, f"{self.folder / key}.pt").to(device).eval()


def _classifier(record: dict[str, Any], state: dict[str, torch.Tensor], where: str = "weights") -> Classifier:
    """The classifier of a run's record with the weights ``state``."""
    spec = record["spec"]
    model = build_classifier(spec["model"], len(spec["classes"]), tuple(record["input_shape"]), spec["recipe"]["whiten"])
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise FreqprobeError(
            f"{where}: weights of another architecture (a run of an older development version of freqprobe?); "
            "delete the file to retrain"
        ) from None
    model.class_names = tuple(spec["classes"])
    return model.eval()


def _weights_damage(path: Path) -> str | None:
    """What is wrong with a weights file (missing, not a whole zip archive), or ``None``.

    ``torch.save`` writes a zip archive: a truncated or altered file fails its directory
    or its CRC checks, found here without unpickling anything.
    """
    if not path.exists():
        return f"{path}: weights missing"
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        return f"{path}: damaged weights ({type(err).__name__})"
    return None if broken is None else f"{path}: damaged weights ({broken} fails its checksum)"


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
            train_classifier(model, images, spec.recipe, spec.seed, device, progress)
            model.class_names = tuple(spec.classes)
        record = {
            "spec": dataclasses.asdict(spec),
            "key": key,
            "freqprobe": __version__,
            "input_shape": list(shape),
            "train_seconds": round(time.perf_counter() - start, 2),
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
        record["scores"][variant] = evaluate(probabilities, task.test.label, len(task.train))
    store.put(key, record)
    return record


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
