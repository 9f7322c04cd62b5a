"""The run store: finished runs of a study, written by the study alone.

What a run computes lives in ``freqprobe.execution`` (``RunSpec``, ``Job``, ``run_job``);
executors give back records and weights, and ``ablate`` puts them here.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
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

    Both are written atomically, weights first, so a JSON file means a finished run. A run
    whose record or weights are damaged (malformed JSON, a truncated ``.pt``) counts as
    unfinished: ``record`` warns once and gives ``None``, so the study computes it again.
    With no folder the store lives in memory (a notebook session that saves nothing). One
    process writes a store at a time (``ablate`` holds ``io.folder_lock``).
    """

    def __init__(self, folder: str | os.PathLike | None, subfolder: str = "runs") -> None:
        self.folder = None if folder is None else Path(folder) / subfolder
        self._records: dict[str, dict[str, Any]] = {}
        self._states: dict[str, dict[str, torch.Tensor]] = {}
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

    def put(self, key: str, record: dict[str, Any], state: dict[str, torch.Tensor] | None = None) -> None:
        """Store a record (and a model's weights, a CPU state dict, written first)."""
        self._records[key] = record
        self._warned.discard(key)
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
        """A finished run's weights (CPU state dict, loaded with ``weights_only``).

        Raises:
            KeyError: no such run; FreqprobeError: its record or weights are damaged.
        """
        if key in self._states:
            return self._states[key]
        if key not in self._records:  # read once: a damaged run is named as such
            record, damage = self._read(key, True)
            if damage is not None:
                raise FreqprobeError(f"{damage}; run the study's ablate command again to compute it again")
            if record is not None:
                self._records[key] = record
        if key not in self._records or self.folder is None:
            raise KeyError(f"no finished run {key}")
        try:
            return torch.load(self.folder / f"{key}.pt", map_location="cpu", weights_only=True)
        except Exception as err:  # unpickling fails in many ways
            raise FreqprobeError(
                f"{self.folder / key}.pt: damaged weights ({type(err).__name__}); run the study's ablate command "
                "again to compute it again"
            ) from None

    def model(self, key: str, device: torch.device) -> Classifier:
        """The trained classifier of a finished run."""
        state = self.weights(key)  # first: a damaged run is named as such
        record = self.record(key)
        spec = record["spec"]
        with torch.random.fork_rng(devices=[]):  # building initialises: leave the caller's RNG alone
            whiten, readout = spec["recipe"]["whiten"], spec["recipe"].get("readout", False)  # 0.2's runs: none
            model = build_classifier(spec["model"], len(spec["classes"]), tuple(record["input_shape"]), whiten, readout)
        try:
            model.load_state_dict(state)
        except RuntimeError:
            raise FreqprobeError(
                f"{self.folder / key}.pt: weights of another architecture (a run of an older development "
                "version of freqprobe?); delete the file to retrain"
            ) from None
        model.class_names = tuple(spec["classes"])
        return model.to(device).eval()


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
