"""``RayExecutor``: the jobs of a study as Ray tasks, one run each.

Each task's images (a ``Task``: uint8 training and test sets) enter Ray's object store
once, however many runs read them; a job travels without them. A task asks for one CPU,
and one GPU when the study's device is CUDA (``auto``: when the cluster has GPUs), so a
mixed cluster places every run on a node that can hold it; a worker runs it with one
torch thread. A worker that dies mid-run (killed, out of memory, its node lost) has its
run retried by Ray (``max_retries``); any other error ends the study with the worker's
message. Workers return records and weights; the driver alone writes the run store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from .._version import __version__
from ..device import resolve_device
from .jobs import Job, JobResult, TrainingViews, run_job
from .ray_session import connect, enter_worker, result, task_resources

#: Retries of a run whose worker died (Ray's default for tasks, made explicit).
MAX_RETRIES = 3


class RayExecutor:
    """Runs jobs as Ray tasks (joins ``address``, else ``RAY_ADDRESS``, else starts Ray here).

    ``running`` is how many runs are executing now (those in flight, up to the slots the
    cluster has for them), for the study's progress bar.
    """

    def __init__(self, device: str | torch.device = "auto", address: str | None = None) -> None:
        self.device, self.address = str(device), address
        self.ray = connect(address)  # now: a cluster that cannot be joined fails before any work
        self.running = 0

    def run(self, jobs: Sequence[Job]) -> Iterator[JobResult]:
        ray = self.ray
        resources = task_resources(ray, self.device)
        remote = ray.remote(run_remote).options(**resources, max_retries=MAX_RETRIES)
        slots = _slots(ray, resources)
        stored_tasks: dict[int, Any] = {}
        in_flight = {}
        for job in jobs:
            if id(job.task) not in stored_tasks:
                stored_tasks[id(job.task)] = ray.put(job.task)  # the images, once per task
            bare = dataclasses.replace(job, task=None)
            in_flight[remote.remote(stored_tasks[id(job.task)], bare, self.device, __version__)] = job
        pending = list(in_flight)
        self.running = min(len(pending), slots)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            self.running = min(len(pending), slots)
            record, state, linear = result(ray, done[0])
            yield JobResult(in_flight.pop(done[0]), record, state, linear)


def run_remote(task: Any, job: Job, device: str, driver_version: str) -> tuple[dict, dict, dict | None]:
    """In a worker: ``run_job`` on the task's images; the record, CPU weights and linear record."""
    enter_worker(driver_version)
    result = run_job(dataclasses.replace(job, task=task), TrainingViews(resolve_device(device)))
    return result.record, result.state, result.linear


def _slots(ray: Any, resources: dict[str, float]) -> int:
    """How many such tasks the cluster runs at once."""
    total = ray.cluster_resources()
    fits = [int(total.get(name, 0) // need) for name, need in (("CPU", resources["num_cpus"]),
                                                              ("GPU", resources["num_gpus"])) if need]  # fmt: skip
    return max(1, min(fits))
