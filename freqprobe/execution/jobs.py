"""What one run computes: train a classifier on a variant (unless an earlier call did),
score it on test variants, and fit the linear probe beside it when asked.

A run is a pure function of its ``RunSpec`` (task, data fingerprints, split, training
variant, seed, model, recipe) and the images: its key hashes exactly that, so finished
runs are reused, an interrupted study resumes, and a ``Job`` can be shipped to any worker
as it is. The test variants are not part of the key: a model trained once (say on the
originals) serves every variant it is later scored on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import time
import warnings
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import torch

from .._version import __version__
from ..errors import FreqprobeError, TrainingError
from ..models import Classifier, build_classifier
from ..stats import binomial_p_value, roc_auc, wilson_interval
from ..training import FilteredImages, LinearProbe, Recipe, predict_proba, train_classifier
from ..training.trainer import check_finite_scores
from ..transforms import Transform, transform
from ..transforms.representations import image_stages

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


@dataclasses.dataclass(frozen=True)
class Job:
    """One run to execute: train ``spec`` on ``task`` (unless ``weights`` are given) and
    score it on every variant of ``tested`` that ``record`` does not hold yet.

    ``record`` and ``weights`` are what an earlier call stored (``None`` for a new run);
    ``linear`` is the linear probe's record so far when this job is to fit it too
    (``None``: another job of the same variant does, or it is complete).
    ``task`` is a ``freqprobe.ablation.tasks.Task`` (name, classes, train, test).
    """

    spec: RunSpec
    task: Any
    tested: tuple[str, ...]
    record: dict[str, Any] | None = None
    weights: dict[str, torch.Tensor] | None = None
    linear: dict[str, Any] | None = None


class JobResult(NamedTuple):
    """What an executor gives back for a job: the run's record, its weights (CPU state
    dict) and the linear probe's record (``None`` when the job did not fit it)."""

    job: Job
    record: dict[str, Any]
    state: dict[str, torch.Tensor]
    linear: dict[str, Any] | None


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


def run_job(job: Job, views: TrainingViews, progress: bool = False) -> JobResult:
    """Execute ``job`` on ``views.device``, one model at a time; writes nothing."""
    if job.weights is None:
        images = views.get(job.task, transform(job.spec.variant))
        model, record = train_one(job, images, progress)
        fitted = {job.spec.variant: images.transform}
    else:
        model, record, fitted = restore(job, views.device), json.loads(json.dumps(job.record)), {}
    return finish(job, model, record, fitted, views)


def new_model(job: Job, shape: tuple[int, int, int]) -> Classifier:
    """The job's untrained classifier, initialised from its seed (the caller's RNG untouched)."""
    spec = job.spec
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        return build_classifier(spec.model, len(spec.classes), shape, spec.recipe.whiten, spec.recipe.readout)


def new_record(job: Job, shape: tuple[int, ...], seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "spec": dataclasses.asdict(job.spec),
        "key": job.spec.key,
        "freqprobe": __version__,
        "input_shape": list(shape),
        "train_seconds": round(seconds, 2),
        **extra,
        "scores": {},
    }


def train_one(job: Job, images: FilteredImages, progress: bool) -> tuple[Classifier, dict[str, Any]]:
    start = time.perf_counter()
    spec, device = job.spec, images.device
    shape = images.transform.output_shape((3, *job.task.train.image_size))
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):  # the caller's RNG untouched
        torch.manual_seed(spec.seed)  # the initialisation, and any randomness a user's network draws in training
        model = build_classifier(spec.model, len(spec.classes), shape, spec.recipe.whiten, spec.recipe.readout)
        with naming(spec):
            train_classifier(model, images, spec.recipe, spec.seed, device, progress)
    seconds = time.perf_counter() - start
    return model, new_record(job, shape, seconds, trained_on=trained_on(device), precision="float32")


def restore(job: Job, device: torch.device) -> Classifier:
    """The stored classifier of a job that only needs scoring."""
    spec = job.spec
    with torch.random.fork_rng(devices=[]):  # building initialises: leave the caller's RNG alone
        model = build_classifier(
            spec.model, len(spec.classes), tuple(job.record["input_shape"]), spec.recipe.whiten, spec.recipe.readout
        )
    try:
        model.load_state_dict(job.weights)
    except RuntimeError:
        raise FreqprobeError(
            f"stored run {spec.key}: weights of another architecture (a run of an older development version of "
            f"freqprobe?); delete runs/{spec.key}.pt to retrain"
        ) from None
    return model.to(device).eval()


def finish(
    job: Job, model: Classifier, record: dict[str, Any], fitted: dict[str, Transform], views: TrainingViews
) -> JobResult:
    """Score a trained model on the test variants it lacks, then fit the linear probe if asked."""
    model.class_names = tuple(job.spec.classes)
    device, task = views.device, job.task
    for variant in [v for v in job.tested if v not in record["scores"]]:
        # a fitted transform (power_equalize) learns its statistics from training images only
        test_transform = fitted.get(variant) or transform(variant).fit(TrainingBatches(task, device))
        with naming(job.spec):
            probabilities = predict_proba(model, task.test, test_transform, device)
        record["scores"][variant] = evaluate(probabilities, task.test.label, len(task.train))
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    linear = None if job.linear is None else fit_linear(job, views)
    return JobResult(job, record, state, linear)


def fit_linear(job: Job, views: TrainingViews) -> dict[str, Any]:
    """The linear probe beside a run: fitted on the training images of the job's variant
    (before any representation stage), scored on each test variant; shared by all seeds."""
    record = json.loads(json.dumps(job.linear))
    missing = [v for v in job.tested if v not in record["scores"]]
    if not missing:
        return record
    task = job.task
    images = views.get(task, image_stages(transform(job.spec.variant)))
    probe = LinearProbe().fit(images.batches(1024), len(job.spec.classes))
    fitted = images.transform
    for variant in missing:
        t = image_stages(transform(variant))
        t = fitted if str(t) == str(fitted) else t.fit(TrainingBatches(task, views.device))
        batches = task.test.batches(1024, views.device)
        probabilities = torch.cat([probe.predict_proba(t(x, index)) for x, index, _ in batches])
        with naming(job.spec):
            check_finite_scores(probabilities, "the linear probe")
        record["scores"][variant] = evaluate(probabilities, task.test.label, len(task.train))
    return record


def trained_on(device: torch.device) -> str:
    """Where a run was trained, as far as its numbers depend on it: the device, and on the
    CPU the thread count (float sums are split across threads differently: results are
    bit-identical only at one thread count). Computed where the run trains (a Ray worker too)."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    threads = torch.get_num_threads()
    return f"{device.type} ({threads} thread{'' if threads == 1 else 's'})"


@contextlib.contextmanager
def naming(spec: RunSpec) -> Iterator[None]:
    """A training error names the run it stopped (one line, as every error)."""
    try:
        yield
    except TrainingError as error:
        raise TrainingError(f"run {spec.task} {spec.variant} seed {spec.seed} ({spec.model}): {error}") from None


class TrainingViews:
    """A task's training images through variants (each transform fitted on them), the last
    ``keep`` of them kept: the network and the linear probe of a run filter them once."""

    def __init__(self, device: torch.device, keep: int = 1) -> None:
        self.device, self.keep = device, keep
        self._task = None  # the task object itself: its identity, not its name
        self._views: dict[str, FilteredImages] = {}  # by variant, oldest first

    def get(self, task, variant: Transform) -> FilteredImages:
        """The training images of ``task`` through ``variant`` (fitted here unless cached)."""
        name = str(variant)
        if task is not self._task:
            self._task, self._views = None, {}  # free the last views before filtering the next
        if name not in self._views:
            while len(self._views) >= self.keep:
                del self._views[next(iter(self._views))]
            self._views[name] = filtered_view(task, variant, self.device)
            self._task = task
        return self._views[name]


def filtered_view(task, variant: Transform, device: torch.device) -> FilteredImages:
    """``task``'s training images through ``variant``, fitted on them; warns when blank."""
    fitted = variant.fit(TrainingBatches(task, device))
    images = FilteredImages(task.train, fitted, device)
    resident = images.resident
    if resident is not None and len(resident) and float(resident.abs().amax()) < BLANK:
        warnings.warn(f"{variant} leaves the training images blank (|x| < {BLANK:g} everywhere)", stacklevel=3)
    return images


class TrainingBatches:
    """Training images as ``(index, float batch)`` pairs, re-iterable (for ``Transform.fit``)."""

    def __init__(self, task, device: torch.device) -> None:
        self.task, self.device = task, device

    def __iter__(self):
        for x, index, _ in self.task.train.batches(1024, self.device):
            yield index, x
