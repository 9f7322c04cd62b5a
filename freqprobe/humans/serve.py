"""``prepare`` a run folder (stimuli, ``experiment.json``, optionally ``classifier.csv``) and ``serve`` it."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import FreqprobeError
from ..validation import check_int
from .experiment import TASKS, Experiment, build_2afc, build_categorise
from .server import PsychophysicsServer


def prepare(
    out: str | os.PathLike[str],
    sets: Sequence[tuple[str, str | os.PathLike[str]]],
    *,
    task: str = "2afc",
    pairs: bool = False,
    trials: int = 40,
    distortions: Sequence[str] | None = None,
    fixation_ms: int = 500,
    presentation_ms: int = 200,
    attention_every: int = 10,
    size: int | None = None,
    seed: int = 0,
    model: Any = None,
    label_map: str | None = None,
    batch_size: int = 128,
) -> Experiment:
    """Write an experiment's stimuli and ``experiment.json`` into ``out`` (see
    ``freqprobe.humans.experiment``), or reuse them when ``out`` holds the same experiment
    (so sessions resume); with ``model``, its answers to the same stimuli (``classifier.csv``;
    ``label_map`` as ``fp.probe`` takes it; ``batch_size`` images per forward pass)."""
    out = Path(out)
    if task not in TASKS:
        raise FreqprobeError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    if fixation_ms < 0 or presentation_ms <= 0:
        raise FreqprobeError("fixation_ms must be >= 0 and presentation_ms > 0")
    check_int(batch_size, "batch_size", 1)
    request = {"task": task, "sets": [[n, str(p)] for n, p in sets], "pairs": pairs, "trials": trials,
               "distortions": list(distortions or []), "fixation_ms": fixation_ms,
               "presentation_ms": presentation_ms, "attention_every": attention_every, "size": size,
               "seed": seed, "label_map": label_map}  # fmt: skip
    if (out / "request.json").exists():
        if json.loads((out / "request.json").read_text()) != request:
            raise FreqprobeError(f"{out} holds another experiment (request.json differs); use a new --out")
        return Experiment.load(out)
    timing = {"fixation_ms": fixation_ms, "presentation_ms": presentation_ms}
    if task == "2afc":
        experiment = build_2afc(sets, out, pairs=pairs, trials=trials, seed=seed, attention_every=attention_every,
                                timing=timing, size=size)  # fmt: skip
    else:
        if len(sets) != 1:
            raise FreqprobeError(f"categorise takes one labelled set (a folder of class folders), got {len(sets)}")
        experiment = build_categorise(sets[0][1], out, distortions=distortions, seed=seed,
                                      attention_every=attention_every, timing=timing, size=size)  # fmt: skip
    experiment.save(out)
    if model is not None:
        from .classifier import classifier_trials

        classifier_trials(out, model, label_map, batch_size=batch_size)
    from ..io import atomic_path

    with atomic_path(out / "request.json") as partial:
        partial.write_text(json.dumps(request, indent=1) + "\n")
    return experiment


def serve(out: str | os.PathLike[str], port: int = 0, lease_s: float = 20.0) -> PsychophysicsServer:
    """A server for the prepared run folder ``out`` on 127.0.0.1 (``port`` 0: any free one),
    not yet serving: call ``serve_forever()`` or ``start_in_thread()``, then ``shutdown()``."""
    if not (Path(out) / "experiment.json").exists():
        raise FreqprobeError(f"{out}: no experiment.json; prepare the folder first")
    return PsychophysicsServer(Path(out), port, lease_s)
