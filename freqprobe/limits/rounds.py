"""The audiogram's searches in lock-step: round ``r`` tests every unfinished search's next
strength, and the round's network trainings go to an executor together (in process, packed
across the round's planted sets, or as Ray tasks).

Each search is the generator of ``search.bisection``: it sees the same answers in the same
order as when run alone, so the evaluations, their keys and the thresholds are those of
the sequential search. Every finished training is stored at once (a rerun resumes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from ..ablation.tasks import Task, build_tasks
from ..data import ImageSet
from ..execution import Executor, Job, LocalExecutor
from ..stats import wilson_interval
from .detectors import Detector, NetworkDetector, correct_of
from .kinds import Probe
from .search import Bracket
from .store import EvaluationStore, evaluation_key

#: Planted sets held at once for a round's trainings (uint8 bytes); more are planted in turn.
ROUND_BYTES = 2**31


@dataclasses.dataclass
class Search:
    """One detector's search at one frequency (``None``: a probe without one)."""

    frequency: tuple[float, float] | None
    detector: str
    steps: Any  # the bisection generator
    strength: float | None = None  # the next to test; None once finished
    bracket: Bracket | None = None
    made: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def advance(self, detected: bool | None) -> None:
        try:
            self.strength = next(self.steps) if detected is None else self.steps.send(detected)
        except StopIteration as stop:
            self.strength, self.bracket = None, stop.value


@dataclasses.dataclass
class Planting:
    """What every evaluation of one audiogram shares: the halves, the probe, the seeds."""

    kept: ImageSet
    base: torch.Tensor  # the half the probe is planted into (uint8)
    probe: Probe
    step: float
    seed: int
    split_seed: int
    test_size: float
    fingerprint: str

    def task(self, search: Search) -> Task:
        planted = ImageSet(self.probe.plant(self.base, search.frequency, search.strength, self.seed, self.step))
        [task] = build_tasks({"real": self.kept, "planted": planted}, self.test_size, self.split_seed, False, False, False)
        return task

    def key(self, detector: Detector, search: Search) -> str:
        return evaluation_key({**detector.identity, "data": self.fingerprint, "split_seed": self.split_seed,
                               "test_size": self.test_size, "seed": self.seed,
                               **self.probe.key(search.frequency, search.strength, self.step)})  # fmt: skip


class PlantedSetsExecutor(LocalExecutor):
    """The local executor, packing the trainings of a round's different planted sets (one
    task each, all of one size and shape) together; ``LocalExecutor`` packs runs of one task."""

    def pack_key(self, job: Job) -> Hashable:
        """The planted sets of one audiogram differ only in what is planted: training sets of
        one size and class counts (so one schedule and one split for the stacked read-out)."""
        train = job.task.train
        return (len(train), tuple(torch.bincount(train.label).tolist()), tuple(train.image_size), job.spec.model,
                job.spec.recipe)  # fmt: skip


def run_searches(
    searches: list[Search],
    detectors: dict[str, Detector],
    planting: Planting,
    store: EvaluationStore,
    runner: Executor,
    confidence: float,
    device: torch.device,
    bar: tqdm,
    budget: int,
) -> None:
    """Advance ``searches`` round by round until each has its bracket."""
    for search in searches:
        search.advance(None)
    while active := [s for s in searches if s.bracket is None]:
        records = measure(active, detectors, planting, store, runner, device, bar)
        for search, record in zip(active, records):
            low = wilson_interval(record["correct"], record["n_test"], confidence)[0]
            search.made.append({**record, "detector": search.detector, "accuracy": record["correct"] / record["n_test"],
                                "ci_low": low, "detected": bool(low > 0.5)})  # fmt: skip
            search.advance(bool(low > 0.5))
            if search.bracket is not None:
                bar.update(budget - len(search.made))


def measure(
    active: list[Search],
    detectors: dict[str, Detector],
    planting: Planting,
    store: EvaluationStore,
    runner: Executor,
    device: torch.device,
    bar: tqdm,
) -> list[dict[str, Any]]:
    """One round: each search's record at its strength, read from ``store`` or made now
    (network trainings through ``runner``, together; other detectors here)."""
    keys = [planting.key(detectors[s.detector], s) for s in active]
    records: list[dict[str, Any] | None] = [store.get(key) for key in keys]
    trainings = []
    for i, search in enumerate(active):
        if records[i] is not None:
            bar.update()
            continue
        detector = detectors[search.detector]
        if isinstance(detector, NetworkDetector):
            trainings.append(i)
            continue
        task = planting.task(search)
        records[i] = _record(planting, search, detector.correct(task, planting.seed, device), len(task.test))
        store.put(keys[i], records[i])
        bar.update()
    per_round = max(1, ROUND_BYTES // max(1, planting.base.numel()))
    for chunk in _chunks(trainings, per_round):
        jobs = {}
        for i in chunk:  # planted now: a chunk's sets are all a round holds at once
            job = detectors[active[i].detector].job(planting.task(active[i]), planting.seed, keys[i])
            jobs[job.spec.key] = (i, job)
        for done in runner.run([job for _, job in jobs.values()]):
            i, _ = jobs[done.job.spec.key]
            records[i] = {**_record(planting, active[i], correct_of(done), len(done.job.task.test)),
                          "trained_on": done.record.get("trained_on")}  # fmt: skip
            store.put(keys[i], records[i])  # at once: an interrupted round keeps what finished
            bar.update()
    return records


def _record(planting: Planting, search: Search, correct: int, n_test: int) -> dict[str, Any]:
    return {**planting.probe.record(search.frequency, search.strength), "detector": search.detector,
            "correct": correct, "n_test": n_test}  # fmt: skip


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def make_runner(
    executor: str | Executor, pack: bool | None, device: torch.device | str, address: str | None
) -> Executor:
    """``executor`` by name (``local``: ``PlantedSetsExecutor``, ``ray``: ``RayExecutor``) or itself."""
    if not isinstance(executor, str):
        return executor
    if executor == "ray":
        from ..execution.ray_executor import RayExecutor

        return RayExecutor(str(device), address, pack)
    return PlantedSetsExecutor(device, pack=pack)
