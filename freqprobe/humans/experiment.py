"""What a participant sees: the stimuli (PNG files) and each participant's trial list.

Two tasks:

- ``2afc`` (You et al.'s question, real vs generated): two image sets, named; with
  ``pairs``, each trial shows one image of each side by side and asks which is of the
  first set (keys ← →; ``category`` is where it was, ``left`` or ``right``); without, one
  image and asks which set it came from (keys F J; ``category`` is its set). Half the
  trials draw from each set (or put the first set's image left), in an order shuffled per
  participant; every ``attention_every``-th trial is an attention check (the page asks
  for a named key; ``condition == "attention-check"``).
- ``categorise`` (model-vs-human's protocol): a labelled set (one sub-folder per class),
  drawn through the probe's distortions (``freqprobe.probe.distortions``); each
  participant sees every image once, the conditions balanced over images (a rotation
  whose start the seed draws, the same for all participants, as model-vs-human shows
  every participant the same stimuli), in an order shuffled per participant; keys: the
  letters shown beside the classes. Only the version of an image that is shown is drawn
  and written.

A participant's list is a pure function of the experiment (``experiment.json``), the seed
and the participant id, so a resumed session continues the same list.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..data import load_images
from ..errors import FreqprobeError
from ..io import atomic_path
from ..probe.distortions import parse_conditions
from ..probe.labelled import load_labelled

TASKS = ("2afc", "categorise")
ATTENTION = "attention-check"
PAIR_KEYS = {"ArrowLeft": "left", "ArrowRight": "right"}


@dataclasses.dataclass
class Experiment:
    """The stimuli, response keys and timing of one experiment (``experiment.json``)."""

    task: str
    name: str
    keys: dict[str, str]  #: key (``KeyboardEvent.key``) -> response
    #: what every participant is shown (each plan shuffles this list): ``file`` (under ``stimuli/``;
    #: ``pair``: the two files of a pair), ``imagename``, ``category`` (the right answer), ``condition``
    stimuli: list[dict[str, Any]]
    timing: dict[str, int]  #: ``fixation_ms``, ``presentation_ms``
    seed: int = 0
    attention_every: int = 0
    question: str = ""

    def save(self, folder: Path) -> None:
        with atomic_path(folder / "experiment.json") as partial:
            partial.write_text(json.dumps(dataclasses.asdict(self), indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Experiment:
        experiment = cls(**json.loads((folder / "experiment.json").read_text()))
        names = {s["imagename"] for s in experiment.stimuli}
        if experiment.task == "categorise" and len(names) < len(experiment.stimuli):
            # prepared before only the stimuli shown were kept: every image at every level
            experiment.stimuli = _one_level_per_image(experiment.stimuli, experiment.seed)
        return experiment

    def plan(self, participant: str) -> list[dict[str, Any]]:
        """The participant's trials in order (``stimuli`` shuffled per participant, with
        attention checks): the stimuli's fields, ``trial`` (1-based), and for attention
        checks the key asked for (``expected``)."""
        rng = np.random.default_rng([self.seed, participant_seed(participant)])
        trials = [dict(self.stimuli[i]) for i in rng.permutation(len(self.stimuli))]
        if self.attention_every > 0:
            keys = list(self.keys)
            with_checks = []
            for k, trial in enumerate(trials, start=1):
                with_checks.append(trial)
                if k % self.attention_every == 0:
                    key = keys[int(rng.integers(len(keys)))]
                    with_checks.append({"file": "", "imagename": f"{ATTENTION}-{k // self.attention_every}",
                                        "category": self.keys[key], "condition": ATTENTION,
                                        "expected": key})  # fmt: skip
            trials = with_checks
        return [{**trial, "trial": k} for k, trial in enumerate(trials, start=1)]


def participant_seed(participant: str) -> int:
    return int.from_bytes(hashlib.sha256(participant.encode()).digest()[:8], "little")


def rotation_start(seed: int, levels: int) -> int:
    """Categorise: image ``k`` is shown at level ``(k + rotation_start) % levels``."""
    return int(np.random.default_rng(seed).integers(levels))


def _one_level_per_image(stimuli: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Of stimuli holding every image at every level, the version of each image shown."""
    levels = list(dict.fromkeys(s["condition"] for s in stimuli))
    versions: dict[str, dict[str, dict[str, Any]]] = {}
    for s in stimuli:
        versions.setdefault(s["imagename"], {})[s["condition"]] = s
    start = rotation_start(seed, len(levels))
    return [by_level[levels[(k + start) % len(levels)]] for k, by_level in enumerate(versions.values())]


def _write_png(image: torch.Tensor, path: Path) -> None:
    """``(3, H, W)`` float in [0, 1] or uint8 to a PNG, atomically."""
    array = image if image.dtype == torch.uint8 else (image.clamp(0, 1) * 255).round().to(torch.uint8)
    with atomic_path(path) as partial:
        Image.fromarray(array.permute(1, 2, 0).cpu().numpy()).save(partial, format="PNG")


def build_2afc(sets: Sequence[tuple[str, str | os.PathLike]], folder: Path, *, pairs: bool, trials: int, seed: int,
               attention_every: int, timing: dict[str, int], size: int | None = None) -> Experiment:  # fmt: skip
    """Two named image sets to stimuli: ``trials`` of them, half from each set."""
    if len(sets) != 2:
        raise FreqprobeError(f"2afc needs two sets (--sets real=P generated=P), got {len(sets)}")
    names = [name for name, _ in sets]
    if names[0] == names[1]:
        raise FreqprobeError(f"the two sets need different names, got {names[0]!r} twice")
    loaded = [load_images(path, size=size) for _, path in sets]
    half = trials // 2 if not pairs else trials
    for (name, path), images in zip(sets, loaded):
        if len(images) < half:
            raise FreqprobeError(f"set {name} ({path}) has {len(images)} images; {trials} trials need {half}")
    rng = np.random.default_rng(seed)
    picked = [rng.choice(len(images), half, replace=False) for images in loaded]
    files = {}
    for name, images, chosen in zip(names, loaded, picked):
        for i in chosen:
            file = f"{name}/{Path(images.names[i]).with_suffix('.png').as_posix()}"
            _write_png(images.images[i], folder / "stimuli" / file)
            files[name, int(i)] = (file, f"{name}/{images.names[i]}")
    stimuli = []
    if pairs:
        first_left = rng.permutation(np.arange(trials) % 2 == 0)  # balanced sides
        for k in range(trials):
            first, second = files[names[0], int(picked[0][k])], files[names[1], int(picked[1][k])]
            left, right = (first, second) if first_left[k] else (second, first)
            stimuli.append({"file": "", "pair": [left[0], right[0]], "imagename": f"{left[1]}|{right[1]}",
                            "category": "left" if first_left[k] else "right", "condition": "pair"})  # fmt: skip
        keys, question = dict(PAIR_KEYS), f"Which image is {names[0]}? ← left, → right"
    else:
        for name, chosen in zip(names, picked):
            for i in chosen:
                file, imagename = files[name, int(i)]
                stimuli.append({"file": file, "imagename": imagename, "category": name, "condition": "single"})
        keys, question = {"f": names[0], "j": names[1]}, f"{names[0]} (F) or {names[1]} (J)?"
    return Experiment("2afc", "-vs-".join(names), keys, stimuli, timing, seed, attention_every, question)


def build_categorise(source: str | os.PathLike, folder: Path, *, distortions: Sequence[str] | None, seed: int,
                     attention_every: int, timing: dict[str, int], size: int | None = None) -> Experiment:  # fmt: skip
    """A labelled set through the probe's distortions: one PNG per image, at the level it is shown."""
    labelled = load_labelled(source, size=size)
    if len(labelled.class_names) > 26:
        raise FreqprobeError(f"{len(labelled.class_names)} classes; the keyboard offers 26 letters")
    conditions = parse_conditions(distortions, None, seed)
    if len({c.distortion for c in conditions}) > 1:
        raise FreqprobeError("one distortion per experiment (as model-vs-human has one per dataset); "
                             "serve one folder per distortion")
    images = labelled.images.float("cpu")
    index = torch.arange(len(images))
    level = (index + rotation_start(seed, len(conditions))) % len(conditions)
    stimuli: list[dict[str, Any]] = [{} for _ in range(len(images))]  # in image order, as plans draw them
    for c, condition in enumerate(conditions):
        shown = index[level == c]
        if len(shown) == 0:
            continue
        condition.fit([(index, images)])  # on the whole set, as the probe fits it
        for i, image in zip(shown.tolist(), condition(images[shown], shown)):  # random distortions keyed by index
            name = labelled.images.names[i]
            file = f"{condition.distortion}/{condition.label}/{Path(name).with_suffix('.png').as_posix()}"
            _write_png(image, folder / "stimuli" / file)
            stimuli[i] = {"file": file, "imagename": name, "category": labelled.categories[i],
                          "condition": condition.label}  # fmt: skip
    keys = dict(zip(string.ascii_lowercase, labelled.class_names))
    name = conditions[0].distortion
    return Experiment("categorise", name, keys, stimuli, timing, seed, attention_every, "Which category?")
