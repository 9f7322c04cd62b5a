"""The in-process executor: jobs run on this machine's device, one after another."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from .jobs import Job, JobResult, TrainingViews, run_job


class LocalExecutor:
    """Runs jobs in this process on ``device``, in the order given."""

    def __init__(self, device: torch.device, progress: bool = False) -> None:
        self.device, self.progress = device, progress

    def run(self, jobs: Sequence[Job]) -> Iterator[JobResult]:
        views = TrainingViews(self.device)  # consecutive jobs of one variant filter its images once
        for job in jobs:
            yield run_job(job, views, self.progress)
