"""``fp.probe``: an existing classifier's decisions on a labelled set under distortions."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from .._version import __version__
from ..ablation.tasks import NULL_CONTROL
from ..data import ImageSet
from ..device import resolve_device
from ..errors import DataError, FreqprobeError, one_line
from ..execution.ray_session import check_executor
from ..io import check_table_names
from ..validation import check_int
from ..models.state import restored
from ..transforms import Transform, transform
from .decisions import Decider, make_decider
from .distortions import Condition, check_conditions, filter_bank_condition, parse_conditions
from .gamma import GammaSource
from .gamma import describe as describe_gamma
from .labelled import LabelledSource, load_labelled
from .report import ProbeReport
from .trials import COLUMNS as TRIAL_COLUMNS
from .trials import cue_conflict, image_id, with_keys


def with_original(conditions: list[Condition]) -> list[Condition]:
    """The conditions, led by the undistorted images when they are not among them: every
    curve is read against the accuracy it starts from."""
    if any(c.distortion == "original" for c in conditions):
        return conditions
    return [filter_bank_condition("original"), *conditions]


class Batches:
    """Re-iterable ``(index, float batch)`` pairs of an image set on a device."""

    def __init__(self, images: ImageSet, batch_size: int, device: torch.device) -> None:
        self.images, self.batch_size, self.device = images, batch_size, device

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return self.images.batches(self.batch_size, self.device, with_index=True)


def probe(
    model: Any,
    data: LabelledSource,
    *,
    distortions: str | Sequence[str] | None = None,
    preset: str | None = None,
    class_names: Sequence[str] | None = None,
    label_map: str | Mapping[str, Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
    variant: str = "original",
    size: int | tuple[int, int] | None = None,
    batch_size: int = 128,
    device: str | torch.device = "auto",
    seed: int = 0,
    monitor_gamma: GammaSource = None,
    executor: str = "local",
    address: str | None = None,
) -> ProbeReport:
    """Decisions of one or more classifiers on a labelled set, per distortion and level.

    Args:
        model: a classifier, or a list of them (or a dict name -> classifier), each
            anything ``freqprobe.ablation.trained.resolve_model`` takes: an ``nn.Module``,
            a callable returning ``(N, K)`` logits, ``"module:factory"``, a TorchScript
            file, an ``fp.ablate`` result or run folder. Inputs are float images in
            [0, 1], ``(N, 3, H, W)``: a model that needs normalisation carries it inside.
        data: a folder with one sub-folder per class, or ``(images, labels, class_names)``.
        distortions: items as ``freqprobe.probe.distortions.parse_conditions`` takes them
            (``"low-pass:0,1,3"``, ``"contrast"``, ``"lowpass:0.1"``); default: none. The
            undistorted images (``original``) are always probed too, as every curve's baseline.
        preset: a named sweep instead (``"model-vs-human"``).
        class_names: the classes of the model's outputs, in order (default: the model's own,
            for a model of ``fp.ablate`` or an ``nn.Module`` with a ``class_names``
            attribute; else the data's). Data classes are matched to them by name.
        label_map: class name -> output indices, probabilities averaged over them
            (``"imagenet16"``: 1000 ImageNet classes to the 16 categories).
        names: observer names (default: dict keys, file stems, or ``model``, ``model-2``, …).
        variant: a filter-bank spec every model reads its images through, after the
            distortion (a study's model trained on ``highpass:0.1`` reads high-passed images);
            of a study it also picks the model trained on it.
        size: crop images to this size on loading.
        batch_size, device, seed: batching, ``"auto"`` (CUDA if available), and the seed
            of the random benchmark distortions (drawn per image, independent of the batch
            size); random filter-bank specs carry their own (``phase_noise:90,seed=1``).
        monitor_gamma: false colour's monitor gamma table: 256 light outputs in [0, 1], one
            per 8-bit value, increasing (an array or a ``.npy`` path); default: the sRGB
            curve. model-vs-human's stimuli used their lab's measured table
            (``code/x_gamma_function.npy`` of ``rgeirhos/generalisation-humans-DNNs``).
        executor: ``"local"`` (in this process) or ``"ray"``: one Ray task per model and
            distortion condition (``freqprobe.probe.on_ray``), the same tables.
        address: the Ray cluster to join (default ``RAY_ADDRESS``, else Ray on this machine).

    Returns:
        A ``ProbeReport`` (curves, trials, shape bias on cue-conflict images, consistency).

    Models handed over as ``nn.Module`` are put in eval mode (and on ``device``) for the
    probe and given back as they came: train/eval flags and device restored.
    """
    check_executor(executor)
    check_int(batch_size, "batch_size", 1)
    check_int(seed, "seed")
    conditions = with_original(parse_conditions(distortions, preset, seed, monitor_gamma))  # before the images load
    labelled = load_labelled(data, size=size)
    requested, device = str(device), resolve_device(device)
    sources, observers = _observers(model, names)
    check_table_names(observers, "observer name")
    check_table_names(labelled.class_names, "class")
    check_conditions(conditions, *labelled.images.size)
    variant = str(transform(variant, size=labelled.images.size))  # a bad spec fails before any work
    make_decider(labelled.class_names, class_names, label_map)  # bad class names fail before loading
    names_table = pd.DataFrame({"imagename": labelled.images.names, "category": labelled.categories,
                                "object_response": labelled.categories})  # fmt: skip
    _check_image_ids(names_table)
    with restored(*sources):  # a caller's modules come back as they came: mode, device
        models = [load_observer(source, variant=variant, device=device) for source in sources]
        deciders = {observer: make_decider(labelled.class_names, class_names, label_map, own_classes(net), observer)
                    for observer, net in zip(observers, models)}  # fmt: skip
        classes = {*labelled.class_names, *(name for d in deciders.values() for name in d.class_names)}
        cue_conflict(names_table, classes)  # bad file names fail before any model runs
        batches = Batches(labelled.images, batch_size, device)
        _check_outputs(models, observers, deciders, labelled.images[:2].float(device))
        for condition in conditions:
            condition.fit(batches)
        if executor == "ray":
            from .on_ray import sweep_on_ray

            observed = dict(zip(observers, models))
            decisions = sweep_on_ray(conditions, labelled.images, batch_size, requested, observed, deciders, address)
        else:
            decisions = _sweep(conditions, batches, dict(zip(observers, models)), deciders)
    trials = _trial_table(decisions, deciders, labelled.images.names, labelled.categories)
    responses = {observer: list(d.class_names) for observer, d in deciders.items()}
    seen = [str(m.variant) if isinstance(m, ThroughVariant) else "original" for m in models]  # what each model read
    same = len({tuple(r) for r in responses.values()}) == 1
    settings = {
        "version": __version__, "observers": observers, "data": labelled.images.origin, "n_images": len(labelled),
        "size": list(labelled.images.size), "data_classes": list(labelled.class_names),
        "variant": seen[0] if len(set(seen)) == 1 else dict(zip(observers, seen)),
        "response_classes": next(iter(responses.values())) if same else responses,
        "distortions": distortions, "preset": preset, "seed": seed, "monitor_gamma": describe_gamma(monitor_gamma),
        "label_map": label_map if label_map is None or isinstance(label_map, str)
        else {name: list(indices) for name, indices in label_map.items()},
        "chance": 1 / len(labelled.class_names),
    }  # fmt: skip
    levels = {(c.distortion, c.label): c.level for c in conditions}
    return ProbeReport.from_trials(trials, settings, classes, levels)


def _observers(model: Any, names: Sequence[str] | None) -> tuple[list[Any], list[str]]:
    if isinstance(model, Mapping):
        sources, default = list(model.values()), [str(k) for k in model]
    else:
        sources = list(model) if isinstance(model, (list, tuple)) else [model]
        default = [observer_name(source, k) for k, source in enumerate(sources)]
    names = default if names is None else [str(n) for n in names]
    if len(names) != len(sources):
        raise FreqprobeError(f"{len(names)} names for {len(sources)} models")
    if len(set(names)) != len(names):
        raise FreqprobeError(f"observer names must be unique, got {', '.join(names)}")
    return sources, names


def observer_name(source: Any, k: int = 0) -> str:
    """The default name of the ``k``-th model: a run folder's name, a file's stem, the
    factory of ``module:factory``; ``model``, ``model-2``, … for objects."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            return path.name
        return path.stem if path.exists() or ":" not in str(source) else str(source).rsplit(":", 1)[-1]
    return "model" if k == 0 else f"model-{k + 1}"


def _check_image_ids(table: pd.DataFrame) -> None:
    """Trials are matched across observers by image id; two images with one id would only
    fail at the end of the sweep, so refuse them now."""
    keyed = with_keys(table)
    twice = keyed[keyed.duplicated("image", keep=False)]
    if not twice.empty:
        first, second = twice[twice["image"] == twice["image"].iloc[0]]["imagename"].iloc[:2]
        raise DataError(
            f"images {first} and {second} have one image id {image_id(first)!r} (trials match images by the "
            "name after its last '_', model-vs-human's rule); rename one"
        )


def load_observer(
    source: Any,
    *,
    weights: str | os.PathLike | None = None,
    variant: str = "original",
    seed: int | None = None,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """A model to probe, as ``resolve_model`` gives it, in eval mode on ``device``, behind
    ``variant`` (``ThroughVariant``) unless that is ``original``.

    A model of an ``fp.ablate`` study (its ``AblationResult`` or run folder) comes with
    ``class_names``: the study's classes in the order of its outputs (``real`` first),
    read from the run's record (``runs/<key>.json``, ``spec.classes``); ``variant`` also
    picks the study's model trained on it, which thus reads images as the study scored it.

    Raises:
        FreqprobeError: a variant fitted on the study's training images (``power_equalize``).
    """
    from ..ablation import AblationResult
    from ..ablation.trained import resolve_model

    if isinstance(source, (str, os.PathLike)) and (Path(source) / "results.csv").is_file():
        source = AblationResult.load(source)
    variant_transform = transform(variant)
    variant = str(variant_transform)  # canonical, as the study's table has it
    if variant_transform.needs_fit:
        raise FreqprobeError(f"variant {variant}: a transform fitted on a training set cannot be applied here")
    if not isinstance(source, AblationResult):
        if seed is not None:
            raise FreqprobeError("a seed picks a study's model; this model is not a study")
        model = resolve_model(source, weights=weights, device=device)
    else:
        if weights is not None:
            raise FreqprobeError("weights= goes with a module:factory model; a study loads its own weights")
        model = resolve_model(source, variant=variant, seed=seed, device=device)
        classes = study_classes(source, variant, seed)
        if classes is not None:
            model.class_names = classes
    return model if str(variant_transform) == "original" else ThroughVariant(variant_transform, model)


class ThroughVariant(nn.Module):
    """``model(variant(x))``: a model behind the filter-bank variant it reads (a study's
    model: the one it was trained on)."""

    def __init__(self, variant: Transform, model: nn.Module) -> None:
        super().__init__()
        self.variant, self.model = variant, model
        self.class_names: tuple[str, ...] | None = getattr(model, "class_names", None)

    def forward(self, x: Tensor, index: Tensor | None = None) -> Tensor:
        """``index``: the images' positions in their set, for a random variant's draws."""
        return self.model(self.variant(x, index))

    def extra_repr(self) -> str:
        return f"variant={self.variant}"


def study_classes(result: Any, variant: str = "original", seed: int | None = None) -> tuple[str, ...] | None:
    """The classes, in output order, of the model ``result.model(variant, seed)`` gives
    (the same choice of run: the first recipe, the main task, the first seed)."""
    table, store = result.table, result.store
    if store is None or table.empty:
        return None
    recipe = str(table["recipe"].iloc[0])
    trained = table[(table["train_variant"] == variant) & (table["recipe"] == recipe) & (table["task"] != NULL_CONTROL)]
    if trained.empty:
        return None
    task = str(trained["task"].iloc[0])
    seed = int(trained["seed"].iloc[0]) if seed is None else int(seed)
    rows = trained[(trained["task"] == task) & (trained["seed"] == seed)]
    record = store.record(str(rows["run"].iloc[0])) if not rows.empty else None
    classes = (record or {}).get("spec", {}).get("classes")
    return tuple(str(name) for name in classes) if classes else None


def own_classes(model: nn.Module) -> tuple[str, ...] | None:
    """A model's own names of its outputs: its ``class_names`` attribute (a study's model
    has one), when that is a sequence of strings."""
    names = getattr(model, "class_names", None)
    if isinstance(names, (list, tuple)) and names and all(isinstance(name, str) for name in names):
        return tuple(names)
    return None


def _check_outputs(models: Sequence[nn.Module], observers: Sequence[str], deciders: dict[str, Decider],
                   x: Tensor) -> None:  # fmt: skip
    with torch.inference_mode():
        for observer, net in zip(observers, models):
            deciders[observer].check_outputs(_scores(net, x, None, observer), observer)


def _scores(net: nn.Module, x: Tensor, index: Tensor | None, observer: str) -> Tensor:
    """``net``'s scores for the batch ``x``: a tensor with one row per image, or a one-line error."""
    try:
        outputs = net(x, index) if isinstance(net, ThroughVariant) else net(x)
    except Exception as error:  # a user's model can fail in any way
        shape = tuple(x.shape)
        raise FreqprobeError(f"model {observer} fails on a {shape} batch of images: {one_line(error)}") from None
    if not isinstance(outputs, Tensor):
        raise FreqprobeError(f"model {observer} returned {type(outputs).__name__}, not a tensor of scores")
    if outputs.ndim == 0 or len(outputs) != len(x):
        rows = "a scalar" if outputs.ndim == 0 else f"{len(outputs)} rows"
        raise FreqprobeError(
            f"model {observer} returned {rows} of scores for a batch of {len(x)} images; it must return one row "
            "per image, shape (N, K)"
        )
    return outputs


def undefined_decisions(outputs: Tensor) -> Tensor:
    """How many rows of ``(N, K)`` scores have no arg-max to speak of: a NaN, or a tie at
    infinity (all ``-inf``, or several ``+inf``)."""
    top = outputs.amax(dim=1, keepdim=True)
    tied_at_infinity = ((outputs == top) & outputs.isinf()).sum(dim=1) > 1
    return (outputs.isnan().any(dim=1) | tied_at_infinity).sum()


def _sweep(conditions: Sequence[Condition], batches: Batches, models: dict[str, nn.Module],
           deciders: dict[str, Decider]) -> dict:  # fmt: skip
    """``(observer, distortion, condition) -> [decisions per batch]``: each batch is
    distorted once and shown to every model. Warns (once per model) about decisions made
    on NaN scores."""
    decisions = {(o, c.distortion, c.label): [] for o in models for c in conditions}
    undefined = {observer: 0 for observer in models}
    total = 0
    with torch.inference_mode():
        for condition in conditions:
            for index, x in batches:
                distorted = condition(x, index)
                total += len(x)
                for observer, net in models.items():
                    # a copy per model: one that edits its input in place cannot change what the next sees
                    copy = distorted.clone()
                    outputs = _scores(net, copy, index, observer)
                    undefined[observer] += int(undefined_decisions(outputs))
                    decided = deciders[observer].decide(outputs).cpu()
                    decisions[observer, condition.distortion, condition.label].append(decided)
    for observer, count in undefined.items():
        if count:
            warnings.warn(
                f"model {observer} gave NaN (or tied infinite) scores on {count} of {total} trials; their "
                "decisions are arbitrary (the arg-max of NaN) and count in its accuracy",
                stacklevel=3,
            )
    return decisions


def _trial_table(decisions: dict, deciders: dict[str, Decider], imagenames: list[str],
                 categories: list[str]) -> pd.DataFrame:  # fmt: skip
    responses = {observer: np.array(d.class_names, dtype=object) for observer, d in deciders.items()}
    parts = [
        pd.DataFrame({"subj": observer, "distortion": distortion, "condition": label, "imagename": imagenames,
                      "category": categories, "object_response": responses[observer][torch.cat(chunks).numpy()]})
        for (observer, distortion, label), chunks in decisions.items()
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)[list(TRIAL_COLUMNS)]
