"""Participants' sessions: trial tables written response by response, resumption, one page per id.

Each participant's responses go to ``<experiment>_<id>_session_1.csv`` in model-vs-human's
raw-data format (``subj, session, trial, rt, object_response, category, condition,
imagename``; ``rt`` in seconds), rewritten atomically after every response, so a closed
tab loses at most the trial on screen. A session resumes at the first unanswered trial of
the participant's plan. An id is held by one page at a time: while a page holding it has
been heard from within ``lease_s`` seconds, a second start with that id is refused; an id
whose plan is complete is refused too.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FreqprobeError
from ..io import atomic_path
from .experiment import Experiment

COLUMNS = ("subj", "session", "trial", "rt", "object_response", "category", "condition", "imagename")
PARTICIPANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Refused(FreqprobeError):
    """A start the server turns down (the reason is shown to the participant)."""


class Sessions:
    """The run folder's sessions; thread-safe (one lock for all writes)."""

    def __init__(self, folder: Path, experiment: Experiment, lease_s: float = 20.0) -> None:
        self.folder, self.experiment, self.lease_s = folder, experiment, lease_s
        self.lock = threading.Lock()
        self.holders: dict[str, tuple[str, float]] = {}  # participant -> (token, last heard)

    def table_path(self, participant: str) -> Path:
        return self.folder / f"{self.experiment.name}_{participant}_session_1.csv"

    def answered(self, participant: str) -> pd.DataFrame:
        path = self.table_path(participant)
        if not path.exists():
            return pd.DataFrame(columns=COLUMNS)
        return pd.read_csv(path, dtype=str, keep_default_na=False)

    def start(self, participant: str) -> dict[str, Any]:
        """A token and the participant's remaining trials; raises ``Refused``."""
        if not PARTICIPANT.match(participant):
            raise Refused("a participant id is 1 to 64 letters, digits, '.', '_' or '-'")
        with self.lock:
            holder = self.holders.get(participant)
            if holder is not None and time.monotonic() - holder[1] < self.lease_s:
                raise Refused(f"participant {participant} is already taking part on another page")
            plan = self.experiment.plan(participant)
            done = len(self.answered(participant))
            if done >= len(plan):
                raise Refused(f"participant {participant} has completed this experiment")
            token = secrets.token_hex(16)
            self.holders[participant] = (token, time.monotonic())
        return {"token": token, "participant": participant, "done": done, "total": len(plan),
                "trials": [_public(trial) for trial in plan[done:]]}  # fmt: skip

    def _check(self, participant: str, token: str) -> None:
        holder = self.holders.get(participant)
        if holder is None or holder[0] != token:
            raise Refused(f"this page no longer holds participant {participant}; reload to resume")
        self.holders[participant] = (token, time.monotonic())

    def heartbeat(self, participant: str, token: str) -> None:
        with self.lock:
            self._check(participant, token)

    def respond(self, participant: str, token: str, trial: int, key: str, rt_ms: float) -> dict[str, Any]:
        """Record the response to the next trial (others refused), atomically."""
        with self.lock:
            self._check(participant, token)
            plan = self.experiment.plan(participant)
            answered = self.answered(participant)
            expected = len(answered) + 1
            if trial != expected or trial > len(plan):
                raise Refused(f"trial {trial} is not the next one ({expected})")
            entry = plan[trial - 1]
            if "expected" in entry:  # an attention check: the response is the key's meaning, or the key
                response = self.experiment.keys.get(key, key)
            else:
                response = self.experiment.keys.get(key, "na")
            row = {"subj": participant, "session": "1", "trial": str(trial), "rt": f"{rt_ms / 1000:.4f}",
                   "object_response": response, "category": entry["category"], "condition": entry["condition"],
                   "imagename": entry["imagename"]}  # fmt: skip
            table = pd.concat([answered, pd.DataFrame([row])], ignore_index=True)[list(COLUMNS)]
            with atomic_path(self.table_path(participant)) as partial:
                table.to_csv(partial, index=False)
            if trial == len(plan):
                self.holders.pop(participant, None)
        return {"recorded": trial, "finished": trial == len(plan)}


def _public(trial: dict[str, Any]) -> dict[str, Any]:
    """What the page needs of a trial (not the answer)."""
    shown = {"trial": trial["trial"], "files": trial.get("pair") or ([trial["file"]] if trial["file"] else [])}
    if "expected" in trial:
        shown["attention"] = trial["expected"]
    return shown
