"""The run store: finished runs of a study, written by the study alone.

What a run computes lives in ``freqprobe.execution`` (``RunSpec``, ``Job``, ``run_job``);
executors give back records and weights, and ``ablate`` puts them here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import FreqprobeError
from ..execution import RunSpec, TrainingViews, evaluate
from ..io import atomic_path
from ..models import Classifier, build_classifier

__all__ = ["RunSpec", "RunStore", "TrainingViews", "evaluate"]


class RunStore:
    """Finished runs: ``runs/<key>.json`` (spec and scores) and ``runs/<key>.pt`` (weights);
    linear probes keep their records in a second store, ``linear/<key>.json``.

    Both are written atomically, weights first, so a JSON file means a finished run. With
    no folder the store lives in memory (a notebook session that saves nothing).
    """

    def __init__(self, folder: str | os.PathLike | None, subfolder: str = "runs") -> None:
        self.folder = None if folder is None else Path(folder) / subfolder
        self._records: dict[str, dict[str, Any]] = {}
        self._states: dict[str, dict[str, torch.Tensor]] = {}

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

    def put(self, key: str, record: dict[str, Any], state: dict[str, torch.Tensor] | None = None) -> None:
        """Store a record (and a model's weights, a CPU state dict, written first)."""
        self._records[key] = record
        if self.folder is None:
            if state is not None:
                self._states[key] = state
            return
        if state is not None:
            with atomic_path(self.folder / f"{key}.pt") as partial:
                torch.save(state, partial)
        with atomic_path(self.folder / f"{key}.json") as partial:
            partial.write_text(json.dumps(record, indent=1))

    def weights(self, key: str) -> dict[str, torch.Tensor]:
        """A finished run's weights (CPU state dict, loaded with ``weights_only``)."""
        if key in self._states:
            return self._states[key]
        if self.record(key) is None or self.folder is None:
            raise KeyError(f"no finished run {key}")
        return torch.load(self.folder / f"{key}.pt", map_location="cpu", weights_only=True)

    def model(self, key: str, device: torch.device) -> Classifier:
        """The trained classifier of a finished run."""
        record = self.record(key)
        if record is None:
            raise KeyError(f"no finished run {key}")
        spec = record["spec"]
        with torch.random.fork_rng(devices=[]):  # building initialises: leave the caller's RNG alone
            model = build_classifier(
                spec["model"], len(spec["classes"]), tuple(record["input_shape"]), spec["recipe"]["whiten"]
            )
        try:
            model.load_state_dict(self.weights(key))
        except RuntimeError:
            raise FreqprobeError(
                f"{self.folder / key}.pt: weights of another architecture (a run of an older development "
                "version of freqprobe?); delete the file to retrain"
            ) from None
        model.class_names = tuple(spec["classes"])
        return model.to(device).eval()
