"""The executor interface, and choosing one by name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import torch

from ..errors import FreqprobeError
from .jobs import Job, JobResult
from .local import LocalExecutor


@runtime_checkable
class Executor(Protocol):
    """Runs jobs and yields one ``JobResult`` per job as each finishes (any order); writes nothing."""

    def run(self, jobs: Sequence[Job]) -> Iterator[JobResult]: ...


def get_executor(
    executor: str | Executor, device: torch.device, progress: bool = False, address: str | None = None
) -> Executor:
    """An executor from its name (``"local"``, ``"ray"``: at ``address``) or itself."""
    if isinstance(executor, Executor):
        return executor
    if executor == "local":
        return LocalExecutor(device, progress)  # packs on CUDA, one run at a time on a CPU
    if executor == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(device, address)  # packs runs per GPU task when tasks take a GPU
    raise FreqprobeError(f"unknown executor {executor!r}; use local, ray or an object with run(jobs)")
