"""The executor seam: a study plans jobs, any executor runs them, the study writes the store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

import freqprobe as fp
from freqprobe.errors import FreqprobeError
from freqprobe.execution import Executor, Job, LocalExecutor
from freqprobe.training import Recipe

from synthetic import planted_sets

FAST = Recipe(epochs=2, min_steps=40)


def sets(n: int = 48) -> tuple[fp.ImageSet, fp.ImageSet]:
    real, fake = planted_sets(n, 32, 0.3, 0.4, 0.06, 0)
    return fp.ImageSet(real, origin="real"), fp.ImageSet(fake, origin="fake")


class Reversed:
    """Runs the jobs last first, and remembers them: results may come back in any order."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def run(self, jobs):
        self.jobs = list(jobs)
        yield from LocalExecutor(torch.device("cpu")).run(self.jobs[::-1])


def test_a_study_gives_the_same_table_whatever_order_its_executor_finishes_jobs_in() -> None:
    real, fake = sets()
    kwargs = dict(variants=["original", "lowpass:0.2"], seeds=2, recipe=FAST, progress=False)
    local = fp.ablate(real, fake, **kwargs)
    executor = Reversed()
    reversed_ = fp.ablate(real, fake, executor=executor, **kwargs)
    assert isinstance(executor, Executor) and len(executor.jobs) == 6  # (2 variants + the null control) x 2 seeds
    pd.testing.assert_frame_equal(local.table, reversed_.table)


def test_jobs_fit_each_linear_probe_once_and_carry_what_the_store_holds(tmp_path: Path) -> None:
    real, fake = sets()
    kwargs = dict(seeds=2, recipe=FAST, progress=False, null=False, out=tmp_path)
    executor = Reversed()
    fp.ablate(real, fake, ["original"], executor=executor, **kwargs)
    assert [job.linear is not None for job in executor.jobs] == [True, False]  # one probe per variant, not per seed
    assert all(job.record is None and job.weights is None for job in executor.jobs)
    fp.ablate(real, fake, ["original", "grayscale"], mode="probe", executor=executor, **kwargs)
    assert len(executor.jobs) == 2  # the two stored models, scored on grayscale without training
    assert all(job.weights is not None and "original" in job.record["scores"] for job in executor.jobs)
    executor.jobs = []
    fp.ablate(real, fake, ["original", "grayscale"], mode="probe", executor=executor, **kwargs)
    assert executor.jobs == []  # everything stored: no job at all


def test_an_unknown_executor_is_a_one_line_error() -> None:
    real, fake = sets()
    with pytest.raises(FreqprobeError, match="executor must be local or ray, got 'cluster'") as refused:
        fp.ablate(real, fake, ["original"], executor="cluster", progress=False)
    assert "\n" not in str(refused.value)
