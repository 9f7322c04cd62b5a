"""Where runs execute, kept apart from what a run computes.

A study (``freqprobe.ablation``) plans its runs, turns the unfinished ones into ``Job``s
and hands them to an executor; the executor computes and gives results back; the study
alone writes the run store. The seam, which every executor keeps::

    executor.run(jobs: Sequence[Job]) -> Iterator[JobResult]

- ``Job(spec, task, tested, record, weights, linear)``: a pure function of its ``RunSpec``
  and the task's images, plus what an earlier call stored (a record lacking some test
  variants, with its weights) and, when this job is to fit the linear probe of its
  variant, that probe's record so far. Jobs are independent: any order, any worker.
- ``JobResult(job, record, state, linear)``: the run's record (spec, input shape, scores
  per test variant), its weights as a CPU state dict, and the linear probe's record
  (``None`` when the job did not fit it). Yielded as each job finishes, in any order,
  exactly once per job; an executor writes no file.
- ``run_job(job, views)`` computes one job, one model at a time; an executor that ships
  jobs elsewhere calls it there (``TrainingViews(device)`` caches one filtered view).

``LocalExecutor(device)`` runs jobs in this process, in the order given; ``RayExecutor``
(``ray_executor.py``, needs Ray) as Ray tasks;
``get_executor(name_or_executor, device)`` resolves ``ablate(executor=...)``.
"""

from __future__ import annotations

from .executors import Executor, get_executor
from .jobs import Job, JobResult, RunSpec, TrainingBatches, TrainingViews, evaluate, run_job
from .local import LocalExecutor

__all__ = [
    "Executor",
    "Job",
    "JobResult",
    "LocalExecutor",
    "RunSpec",
    "TrainingBatches",
    "TrainingViews",
    "evaluate",
    "get_executor",
    "run_job",
]
