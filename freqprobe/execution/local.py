"""The in-process executor: jobs run on this machine's devices, packed where it pays.

On CUDA the image sets are moved to the device once as uint8 (or pinned in host memory
when they do not fit) and runs that can share a batched computation are trained in packs
(``packed.py``) sized by the memory planner (``memory.py``); a pack that does not fit is
split and retried, down to one run at a time. On a CPU runs go one after another: packing
does not pay there (``docs/scale.md`` has the measurements). ``device="cuda"`` spreads
the packs over every visible GPU, one thread each; ``cuda:1`` uses that one.
"""

from __future__ import annotations

import dataclasses
import math
import queue
import threading
from collections.abc import Hashable, Iterator, Sequence

import torch
from tqdm.auto import tqdm

from ..transforms import transform
from ..training.trainer import RESIDENT_BYTES
from .jobs import Job, JobResult, TrainingViews, finish, new_model, run_job
from .memory import PackTooLarge, activation_bytes_per_image, default_budget, pack_size, parameter_bytes, split
from .packed import PACKABLE, train_pack
from .placement import fits_resident

_DONE = object()


class LocalExecutor:
    """Runs jobs in this process.

    Args:
        device: where; a CUDA device without an index means every visible GPU.
        progress: log the plan (residency, pack sizes, splits) and show progress bars.
        pack: train runs in packs; default: on CUDA only.
        budget: bytes a device may use (default ``memory.USABLE`` of its free memory).
    """

    def __init__(
        self, device: torch.device, progress: bool = False, pack: bool | None = None, budget: int | None = None
    ) -> None:
        device = torch.device(device)
        self.devices = _devices(device)
        self.progress = progress
        self.pack = device.type == "cuda" if pack is None else pack
        self.budget = budget

    def run(self, jobs: Sequence[Job]) -> Iterator[JobResult]:
        work = self._groups(list(jobs))
        if len(self.devices) == 1:
            yield from self._run_on(self.devices[0], work)
            return
        shares: list[list[list[Job]]] = [[] for _ in self.devices]
        parts = [part for group in work for part in split(group, math.ceil(len(group) / len(self.devices)))]
        for i, part in enumerate(parts):
            shares[i % len(self.devices)].append(part)
        yield from self._spread(shares)

    def pack_key(self, job: Job) -> Hashable:
        """What jobs must share to train in one pack: here their task (so a training set and a
        schedule), model, recipe and input shape. A subclass may pack more widely (the
        audiogram packs the planted sets of a round: ``limits/rounds.py``)."""
        return (id(job.task), job.spec.model, job.spec.recipe, _input_shape(job))

    def _groups(self, jobs: list[Job]) -> list[list[Job]]:
        """Jobs that can train together, in order of first appearance; the rest one by one."""
        if not self.pack:
            return [[job] for job in jobs]
        groups: dict[Hashable, list[Job]] = {}
        for i, job in enumerate(jobs):
            packable = job.weights is None and job.spec.model in PACKABLE
            groups.setdefault(self.pack_key(job) if packable else i, []).append(job)
        return list(groups.values())

    def _run_on(self, device: torch.device, work: list[list[Job]]) -> Iterator[JobResult]:
        budget = default_budget(device) if self.budget is None else self.budget
        tasks, resident = self._resident_tasks([job for group in work for job in group], device, budget)
        views = TrainingViews(device)  # consecutive runs of one variant filter its images once
        for group in work:
            group = [dataclasses.replace(job, task=tasks[id(job.task)]) for job in group]
            if len(group) == 1:
                yield run_job(group[0], views, self.progress)
                continue
            # what the models of a pack may use: the budget less the sets and the pack's filtered views
            models_budget = budget - resident - _views_bytes(group)
            size = pack_size(_model_bytes(group[0]), models_budget)
            self._log(f"{len(group)} runs of {group[0].task.name} on {device}: packs of up to {size}")
            for pack in split(group, size):
                yield from self._train_packed(pack, device, models_budget)

    def _train_packed(self, pack: list[Job], device: torch.device, budget: int) -> Iterator[JobResult]:
        """Train ``pack`` together; out of memory (or its models over ``budget``), split it
        and retry the halves."""
        pending = [pack]
        while pending:
            part = pending.pop(0)
            views = TrainingViews(device, keep=len({job.spec.variant for job in part}) + 1)
            if len(part) == 1:
                yield run_job(part[0], views, self.progress)
                continue
            images = [views.get(job.task, transform(job.spec.variant)) for job in part]
            try:
                trained = train_pack(part, images, device, budget)
            except (PackTooLarge, torch.cuda.OutOfMemoryError) as error:
                halves = split(part, math.ceil(len(part) / 2))
                self._log(f"pack of {len(part)} does not fit ({type(error).__name__}): retrying as {len(halves)}")
                del images, views
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                pending[:0] = halves
                continue
            for job, image, (model, record) in zip(part, images, trained):
                yield finish(job, model, record, {job.spec.variant: image.transform}, views)

    def _resident_tasks(self, jobs: list[Job], device: torch.device, budget: int) -> tuple[dict[int, object], int]:
        """The jobs' tasks with their image sets on ``device`` (uint8, once), or pinned in
        host memory for fast copies when half the budget cannot hold them; and the bytes
        placed on the device."""
        tasks = {id(job.task): job.task for job in jobs}
        if device.type != "cuda":
            return tasks, 0
        sources = {id(s): s for task in tasks.values() for part in (task.train, task.test) for s in part.sources}
        total = sum(s.numel() for s in sources.values())
        resident = fits_resident(total, budget)
        moved = {key: s.to(device) if resident else s.pin_memory() for key, s in sources.items()}
        where = f"resident on {device}" if resident else "pinned in host memory (streamed per batch)"
        self._log(f"image sets: {total / 2**30:.2f} GiB uint8, {where}; budget {budget / 2**30:.1f} GiB")

        def moved_part(part):
            return dataclasses.replace(part, sources=[moved[id(s)] for s in part.sources])

        local = {
            key: dataclasses.replace(task, train=moved_part(task.train), test=moved_part(task.test))
            for key, task in tasks.items()
        }
        return local, total if resident else 0

    def _spread(self, shares: list[list[list[Job]]]) -> Iterator[JobResult]:
        """One thread per device, each running its share; results as they come."""
        results: queue.Queue = queue.Queue()

        def work(device: torch.device, share: list[list[Job]]) -> None:
            try:
                if device.type == "cuda":
                    torch.cuda.set_device(device)
                for result in self._run_on(device, share):
                    results.put(result)
            except BaseException as error:  # re-raised in the caller's thread
                results.put(error)
            finally:
                results.put(_DONE)

        threads = [threading.Thread(target=work, args=pair, daemon=True) for pair in zip(self.devices, shares)]
        for thread in threads:
            thread.start()
        finished = 0
        while finished < len(threads):
            item = results.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item

    def _log(self, line: str) -> None:
        if self.progress:
            tqdm.write(line)


def _devices(device: torch.device) -> list[torch.device]:
    """Every visible GPU for ``cuda`` without an index; else the device itself."""
    if device.type == "cuda" and device.index is None:
        return [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    return [device]


def _model_bytes(job: Job) -> int:
    """One model's training memory: parameters' share and one batch's saved activations."""
    shape = _input_shape(job)
    model = new_model(job, shape)
    batch_size, _ = job.spec.recipe.schedule(len(job.task.train))
    return activation_bytes_per_image(model, shape) * batch_size + parameter_bytes(model)


def _views_bytes(group: list[Job]) -> int:
    """The filtered training views a pack keeps (one per variant, float32, resident up to a cap)."""
    job = group[0]
    one = len(job.task.train) * math.prod(_input_shape(job)) * 4
    return len({j.spec.variant for j in group}) * min(RESIDENT_BYTES, one)


def _input_shape(job: Job) -> tuple[int, int, int]:
    return transform(job.spec.variant).output_shape((3, *job.task.train.image_size))
