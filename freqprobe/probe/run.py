"""``fp.probe``: an existing classifier's decisions on a labelled set under distortions."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from .._version import __version__
from ..data import ImageSet
from ..device import resolve_device
from ..errors import DataError, FreqprobeError
from .decisions import Decider, make_decider
from .distortions import Condition, check_conditions, parse_conditions
from .labelled import LabelledSource, load_labelled
from .report import ProbeReport
from .trials import COLUMNS as TRIAL_COLUMNS
from .trials import cue_conflict, image_id, with_keys


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
    size: int | tuple[int, int] | None = None,
    batch_size: int = 128,
    device: str | torch.device = "auto",
    seed: int = 0,
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
            (``"low-pass:0,1,3"``, ``"contrast"``, ``"lowpass:0.1"``); default: none.
        preset: a named sweep instead (``"model-vs-human"``).
        class_names: the classes of the model's outputs, in order (default: the data's).
        label_map: class name -> output indices, probabilities averaged over them
            (``"imagenet16"``: 1000 ImageNet classes to the 16 categories).
        names: observer names (default: dict keys, file stems, or ``model``, ``model-2``, …).
        size: crop images to this size on loading.
        batch_size, device, seed: batching, ``"auto"`` (CUDA if available), and the seed
            of the random benchmark distortions (drawn per image, independent of the batch
            size); random filter-bank specs carry their own (``phase_noise:90,seed=1``).

    Returns:
        A ``ProbeReport`` (curves, trials, shape bias on cue-conflict images, consistency).
    """
    labelled = load_labelled(data, size=size)
    device = resolve_device(device)
    sources, observers = _observers(model, names)
    conditions = parse_conditions(distortions, preset, seed)
    check_conditions(conditions, *labelled.images.size)
    decider = make_decider(labelled.class_names, class_names, label_map)
    names_table = pd.DataFrame({"imagename": labelled.images.names, "category": labelled.categories,
                                "object_response": labelled.categories})  # fmt: skip
    classes = {*labelled.class_names, *decider.class_names}
    cue_conflict(names_table, classes)  # bad file names fail before any work
    _check_image_ids(names_table)
    models = [_load(source, device) for source in sources]
    batches = Batches(labelled.images, batch_size, device)
    _check_outputs(models, observers, decider, labelled.images[:2].float(device))
    for condition in conditions:
        condition.fit(batches)
    decisions = _sweep(conditions, batches, dict(zip(observers, models)), decider)
    trials = _trial_table(decisions, decider, labelled.images.names, labelled.categories)
    settings = {
        "version": __version__, "observers": observers, "data": labelled.images.origin, "n_images": len(labelled),
        "size": list(labelled.images.size), "data_classes": list(labelled.class_names),
        "response_classes": list(decider.class_names), "distortions": distortions, "preset": preset, "seed": seed,
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


def _load(source: Any, device: torch.device) -> nn.Module:
    from ..ablation.trained import resolve_model

    return resolve_model(source, device=device)


def _check_outputs(models: Sequence[nn.Module], observers: Sequence[str], decider: Decider, x: Tensor) -> None:
    with torch.inference_mode():
        for observer, net in zip(observers, models):
            outputs = net(x)
            if not isinstance(outputs, Tensor):
                raise FreqprobeError(f"model {observer} returned {type(outputs).__name__}, not a tensor of scores")
            decider.check_outputs(outputs, observer)


def _sweep(conditions: Sequence[Condition], batches: Batches, models: dict[str, nn.Module], decider: Decider) -> dict:
    """``(observer, distortion, condition) -> [decisions per batch]``: each batch is
    distorted once and shown to every model."""
    decisions = {(o, c.distortion, c.label): [] for o in models for c in conditions}
    with torch.inference_mode():
        for condition in conditions:
            for index, x in batches:
                distorted = condition(x, index)
                for observer, net in models.items():
                    # a copy per model: one that edits its input in place cannot change what the next sees
                    decided = decider.decide(net(distorted.clone())).cpu()
                    decisions[observer, condition.distortion, condition.label].append(decided)
    return decisions


def _trial_table(decisions: dict, decider: Decider, imagenames: list[str], categories: list[str]) -> pd.DataFrame:
    responses = np.array(decider.class_names, dtype=object)
    parts = [
        pd.DataFrame({"subj": observer, "distortion": distortion, "condition": label, "imagename": imagenames,
                      "category": categories, "object_response": responses[torch.cat(chunks).numpy()]})
        for (observer, distortion, label), chunks in decisions.items()
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)[list(TRIAL_COLUMNS)]
