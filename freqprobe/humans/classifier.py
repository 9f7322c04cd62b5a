"""A classifier's answers to an experiment's stimuli (``classifier.csv``), for the result beside the humans'.

As model-vs-human evaluates models on the stimuli its participants saw: 2afc single
images: the model's decision among the two sets' names; pairs: the image to which it
gives the higher score of the first set's class (``left`` or ``right``); categorise: its
decision among the classes, on the distorted image each participant sees. Attention
checks are left out. ``rt`` is 0 (not measured).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from tqdm.auto import tqdm

from ..device import resolve_device
from ..io import write_table
from ..models.state import restored
from ..probe.decisions import Decider, make_decider
from ..probe.run import load_observer, observer_name, own_classes
from ..validation import check_int
from .experiment import Experiment
from .trial_table import COLUMNS


def _image(folder: Path, file: str) -> torch.Tensor:
    return torch.from_numpy(np.array(Image.open(folder / "stimuli" / file).convert("RGB"))).permute(2, 0, 1)


def _scores(net: torch.nn.Module, decider: Decider, folder: Path, files: Sequence[str], batch_size: int,
            device: torch.device) -> torch.Tensor:  # fmt: skip
    """``(len(files), len(decider.class_names))`` scores, ``batch_size`` images per forward pass."""
    scores = []
    for start in tqdm(range(0, len(files), batch_size), desc="classifier", unit="batch", leave=False):
        x = torch.stack([_image(folder, f) for f in files[start : start + batch_size]]).to(device).float() / 255
        scores.append(decider.scores(net(x)).cpu())
    return torch.cat(scores)


def classifier_trials(folder: str | Path, model: Any, label_map: str | Mapping[str, Sequence[int]] | None = None,
                      device: str | torch.device = "auto", batch_size: int = 128) -> Path:  # fmt: skip
    """Write ``classifier.csv``: ``model``'s answers to the experiment's stimuli
    (``label_map`` as ``fp.probe`` takes it, e.g. ``"imagenet16"``), ``batch_size``
    images per forward pass (a pair is two)."""
    check_int(batch_size, "batch_size", 1)
    folder = Path(folder)
    experiment = Experiment.load(folder)
    if experiment.task == "categorise":
        sets = list(experiment.keys.values())
    else:
        sets = experiment.name.split("-vs-")
    device = resolve_device(device)
    name = observer_name(model)
    shown = [stimulus.get("pair") or [stimulus["file"]] for stimulus in experiment.stimuli]
    with restored(model), torch.no_grad():
        net = load_observer(model, device=device)
        decider = make_decider(sets, None, label_map, None if label_map else own_classes(net), name)
        scores = _scores(net, decider, folder, [f for files in shown for f in files], batch_size, device)
    rows, row = [], 0
    for k, (stimulus, files) in enumerate(zip(experiment.stimuli, shown), start=1):
        if stimulus.get("pair"):
            first = decider.class_names.index(sets[0])
            answer = "left" if scores[row, first] >= scores[row + 1, first] else "right"
        else:
            answer = decider.class_names[int(scores[row].argmax())]
        row += len(files)
        rows.append({"subj": name, "session": 1, "trial": k, "rt": 0.0, "object_response": answer,
                     "category": stimulus["category"], "condition": stimulus["condition"],
                     "imagename": stimulus["imagename"]})  # fmt: skip
    return write_table(pd.DataFrame(rows, columns=COLUMNS), folder / "classifier.csv")
