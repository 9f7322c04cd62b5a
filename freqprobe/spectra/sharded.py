"""``fp.spectrum(..., executor="ray")``: each set measured in shards on Ray, the sums reduced.

Every statistic of a report is made from running sums (``measure.SetSums``: counts, sums
and sums of squares in float64), so shards of a set are measured apart and their sums
added. Shards are whole batches of the one-machine pass, so each batch is summed in float32
exactly as there; only the order of the float64 additions differs (results equal to about
1e-15, relative). Each set enters Ray's object store once, as uint8.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from .._version import __version__
from ..data import ImageSet
from ..device import resolve_device
from ..execution.ray_session import connect, enter_worker, gather, task_resources
from .measure import MeasurePlan, SetSums, measure_set
from .moments import RunningMoments

#: Shards per CPU of the cluster: enough to even out the load, few enough to keep sums cheap.
SHARDS_PER_CPU = 2


def measure_sets_on_ray(
    sets: list[ImageSet], plan: MeasurePlan, window: str, device: str, address: str | None, progress: bool = True
) -> list[SetSums]:
    """``[measure_set(images, plan) for images in sets]``, the shards measured by Ray tasks."""
    ray = connect(address)
    measure = ray.remote(measure_shard).options(**task_resources(ray, device), max_retries=3)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    build = (plan.height, plan.width, str(device), window, plan.denoiser, plan.batch_size)
    futures, counts = [], []
    for images in sets:
        stored = ray.put(np.ascontiguousarray(images.images.cpu().numpy()))  # once per set, uint8
        bounds = shard_bounds(len(images), plan.batch_size, SHARDS_PER_CPU * cpus)
        futures += [measure.remote(stored, start, stop, build, __version__) for start, stop in bounds]
        counts.append(len(bounds))
    shards = iter(gather(ray, futures, "spectrum shards", progress))
    return [_to(reduce_sums([next(shards) for _ in range(count)]), plan.device) for count in counts]


def shard_bounds(n: int, batch_size: int, shards: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of about ``shards`` runs of whole batches covering ``0 .. n``.

    Example:
        >>> shard_bounds(100, 16, 3)
        [(0, 48), (48, 96), (96, 100)]
    """
    size = batch_size * max(1, math.ceil(n / batch_size / shards))
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def measure_shard(images: np.ndarray, start: int, stop: int, build: tuple, driver_version: str) -> SetSums:
    """In a worker: the sums of images ``start:stop`` of a stored set (on the worker's device)."""
    enter_worker(driver_version)
    height, width, device, window, denoiser, batch_size = build
    plan = MeasurePlan.build(height, width, resolve_device(device), window, denoiser, batch_size)
    shard = ImageSet(torch.from_numpy(np.array(images[start:stop])))
    return _to(measure_set(shard, plan), torch.device("cpu"))


def reduce_sums(parts: list[SetSums]) -> SetSums:
    """The sums of the shards of one set, added in shard order."""
    total = parts[0]
    for part in parts[1:]:
        _add(total, part)
    return total


def _add(total, part) -> None:
    """Add ``part``'s running sums into ``total`` (matching dataclasses of ``RunningMoments``)."""
    if isinstance(total, RunningMoments):
        total.add_totals(part.total, part.squares, part.count)
        return
    for field in dataclasses.fields(total):
        _add(getattr(total, field.name), getattr(part, field.name))


def _to(sums, device: torch.device):
    """The same sums with every tensor on ``device`` (to travel back to the driver)."""
    if isinstance(sums, RunningMoments):
        sums.total = None if sums.total is None else sums.total.to(device)
        sums.squares = None if sums.squares is None else sums.squares.to(device)
        return sums
    for field in dataclasses.fields(sums):
        _to(getattr(sums, field.name), device)
    return sums
