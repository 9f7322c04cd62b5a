"""Participants' sessions: trial tables written response by response, resumption, one page per id.

Each participant's responses go to ``<experiment>_<id>_session_1.csv`` in model-vs-human's
raw-data format (``subj, session, trial, rt, object_response, category, condition,
imagename``; ``rt`` in seconds), one record appended and ``fsync``-ed per response
(``trial_table``), so a closed tab loses at most the trial on screen and a crash at most
the record being written. A session resumes at the first unanswered trial of the
participant's plan. An id is held by one page at a time: while a page holding it has
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

from ..errors import FreqprobeError
from .experiment import Experiment
from .trial_table import COLUMNS, append_trial, recover

__all__ = ["COLUMNS", "Refused", "Sessions"]

PARTICIPANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Refused(FreqprobeError):
    """A start the server turns down (the reason is shown to the participant)."""


class Sessions:
    """The run folder's sessions; thread-safe (one lock for all writes)."""

    def __init__(self, folder: Path, experiment: Experiment, lease_s: float = 20.0) -> None:
        self.folder, self.experiment, self.lease_s = folder, experiment, lease_s
        self.lock = threading.Lock()
        self.holders: dict[str, tuple[str, float]] = {}  # participant -> (token, last heard)
        #: a started participant's plan and responses recorded, so a response costs the same at any trial
        self.plans: dict[str, list[dict[str, Any]]] = {}
        self.done: dict[str, int] = {}

    def table_path(self, participant: str) -> Path:
        return self.folder / f"{self.experiment.name}_{participant}_session_1.csv"

    def start(self, participant: str) -> dict[str, Any]:
        """A token and the participant's remaining trials; raises ``Refused``."""
        if not PARTICIPANT.match(participant):
            raise Refused("a participant id is 1 to 64 letters, digits, '.', '_' or '-'")
        with self.lock:
            holder = self.holders.get(participant)
            if holder is not None and time.monotonic() - holder[1] < self.lease_s:
                raise Refused(f"participant {participant} is already taking part on another page")
            plan = self.plans.get(participant) or self.experiment.plan(participant)
            done = recover(self.table_path(participant))  # the table on disk, a torn last record cut off
            if done >= len(plan):
                raise Refused(f"participant {participant} has completed this experiment")
            token = secrets.token_hex(16)
            self.holders[participant] = (token, time.monotonic())
            self.plans[participant], self.done[participant] = plan, done
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
        """Record the response to the next trial (others refused), durably, by appending it."""
        with self.lock:
            self._check(participant, token)
            plan = self.plans[participant]
            expected = self.done[participant] + 1
            if trial != expected or trial > len(plan):
                raise Refused(f"trial {trial} is not the next one ({expected})")
            entry = plan[trial - 1]
            if "expected" in entry:  # an attention check: the response is the key's meaning, or the key
                response = self.experiment.keys.get(key, key)
            else:
                response = self.experiment.keys.get(key, "na")
            record = [participant, "1", str(trial), f"{rt_ms / 1000:.4f}", response, entry["category"],
                      entry["condition"], entry["imagename"]]  # fmt: skip
            append_trial(self.table_path(participant), record)
            self.done[participant] = trial
            if trial == len(plan):
                for held in (self.holders, self.plans, self.done):
                    held.pop(participant, None)
        return {"recorded": trial, "finished": trial == len(plan)}


def _public(trial: dict[str, Any]) -> dict[str, Any]:
    """What the page needs of a trial (not the answer)."""
    shown = {"trial": trial["trial"], "files": trial.get("pair") or ([trial["file"]] if trial["file"] else [])}
    if "expected" in trial:
        shown["attention"] = trial["expected"]
    return shown
