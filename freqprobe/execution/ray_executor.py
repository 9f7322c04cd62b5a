"""``RayExecutor``: the jobs of a study as Ray tasks.

Each task's images (a ``Task``: uint8 training and test sets) enter Ray's object store
once, however many runs read them; a job travels without them. A Ray task runs one job,
or, packed, a group of jobs that train together (``LocalExecutor``'s packs, on the
worker's GPU). It asks for one CPU, and one GPU when the study's device is CUDA (``auto``:
when the cluster has GPUs), so a mixed cluster places every run on a node that can hold
it; a worker runs with one torch thread. A worker that dies mid-task (killed, out of
memory, its node lost) has its task retried by Ray (``max_retries``); any other error
ends the study with the worker's message in one line. Workers return records and
weights; the driver alone writes the run store.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from .._version import __version__
from ..device import resolve_device
from .jobs import Job, JobResult
from .local import LocalExecutor
from .memory import split
from .ray_session import connect, enter_worker, result, task_resources

#: Retries of a task whose worker died (Ray's default for tasks, made explicit).
MAX_RETRIES = 3


class RayExecutor:
    """Runs jobs as Ray tasks (joins ``address``, else ``RAY_ADDRESS``, else starts Ray here).

    Args:
        device: what each task runs on, resolved by the worker (``auto``: its GPU if any).
        address: the cluster to join.
        pack: train packable runs of a task together, one pack per Ray task (spread over
            the cluster's GPUs); default: when tasks take a GPU.

    ``running`` is how many runs are executing now (those in flight, up to the slots the
    cluster has for them), for the study's progress bar.
    """

    def __init__(
        self, device: str | torch.device = "auto", address: str | None = None, pack: bool | None = None
    ) -> None:
        self.device, self.address = str(device), address
        self.ray = connect(address)  # now: a cluster that cannot be joined fails before any work
        self.resources = task_resources(self.ray, self.device)
        self.pack = bool(self.resources["num_gpus"]) if pack is None else pack
        self.running = 0

    def run(self, jobs: Sequence[Job]) -> Iterator[JobResult]:
        ray = self.ray
        remote = ray.remote(run_remote).options(**self.resources, max_retries=MAX_RETRIES)
        slots = _slots(ray, self.resources)
        stored_tasks: dict[int, Any] = {}
        in_flight = {}
        for group in self._groups(list(jobs), slots):
            task = group[0].task
            if id(task) not in stored_tasks:
                stored_tasks[id(task)] = ray.put(task)  # the images, once per task
            bare = [dataclasses.replace(job, task=None) for job in group]
            in_flight[remote.remote(stored_tasks[id(task)], bare, self.device, self.pack, __version__)] = group
        pending = list(in_flight)
        self.running = min(sum(len(g) for g in in_flight.values()), slots)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            group = in_flight[done[0]]
            self.running = min(sum(len(in_flight[ref]) for ref in pending), slots)
            by_key = {job.spec.key: job for job in group}
            finished, messages = result(ray, done[0])
            for message in messages:  # what the worker warned about (a blank variant, say) reaches the driver
                warnings.warn(message, stacklevel=2)
            for key, record, state, linear in finished:
                yield JobResult(by_key[key], record, state, linear)

    def _groups(self, jobs: list[Job], slots: int) -> list[list[Job]]:
        """One job per Ray task; packed: the local executor's packs, cut so every slot gets work."""
        if not self.pack:
            return [[job] for job in jobs]
        groups = LocalExecutor(torch.device("cpu"), pack=True)._groups(jobs)  # grouping only; it runs nothing
        return [part for group in groups for part in split(group, math.ceil(len(group) / slots))]


def run_remote(
    task: Any, jobs: list[Job], device: str, pack: bool, driver_version: str
) -> tuple[list[tuple], list[str]]:
    """In a worker: the jobs on the task's images, as the local executor runs them;
    ``(key, record, CPU weights, linear record)`` per job, and the warnings raised."""
    enter_worker(driver_version)
    jobs = [dataclasses.replace(job, task=task) for job in jobs]
    executor = LocalExecutor(resolve_device(device), pack=pack)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        finished = [(done.job.spec.key, done.record, done.state, done.linear) for done in executor.run(jobs)]
    return finished, list(dict.fromkeys(str(w.message) for w in caught))


def _slots(ray: Any, resources: dict[str, float]) -> int:
    """How many such tasks the cluster runs at once."""
    total = ray.cluster_resources()
    fits = [int(total.get(name, 0) // need) for name, need in (("CPU", resources["num_cpus"]),
                                                              ("GPU", resources["num_gpus"])) if need]  # fmt: skip
    return max(1, min(fits))
