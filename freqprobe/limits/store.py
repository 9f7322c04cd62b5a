"""Finished evaluations of an audiogram: one small JSON file each, written atomically.

An evaluation (one detector trained and tested on one planted amplitude) is a pure
function of its key, so a search interrupted anywhere resumes by replaying itself: every
evaluation it already made is read back instead of trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..io import atomic_path


def evaluation_key(fields: dict[str, Any]) -> str:
    """A hash of everything an evaluation's result depends on."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


class EvaluationStore:
    """``folder/evaluations/<key>.json``; in memory only when ``folder`` is ``None``."""

    def __init__(self, folder: str | os.PathLike | None) -> None:
        self.folder = None if folder is None else Path(folder) / "evaluations"
        self._records: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        """A finished evaluation, or ``None`` (an unreadable file counts as unfinished)."""
        if key not in self._records and self.folder is not None and (self.folder / f"{key}.json").exists():
            try:
                self._records[key] = json.loads((self.folder / f"{key}.json").read_text())
            except (OSError, ValueError):
                return None
        return self._records.get(key)

    def put(self, key: str, record: dict[str, Any]) -> None:
        self._records[key] = record
        if self.folder is not None:
            with atomic_path(self.folder / f"{key}.json") as partial:
                partial.write_text(json.dumps(record, indent=1))
