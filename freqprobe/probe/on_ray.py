"""``fp.probe(..., executor="ray")``: the models × distortions grid as Ray tasks.

One task per (model, distortion condition) sweeps the whole labelled set; the set and each
model enter Ray's object store once. Decisions come back to the driver, which builds the
same trial table as in process (random distortions draw per image index, so the batching
of a task changes nothing). Warnings a task raises (NaN scores) are raised again here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .._version import __version__
from ..data import ImageSet
from ..device import resolve_device
from ..errors import FreqprobeError
from ..execution.ray_session import connect, enter_worker, gather, task_resources
from .decisions import Decider
from .distortions import Condition


def sweep_on_ray(
    conditions: Sequence[Condition],
    images: ImageSet,
    batch_size: int,
    device: str,
    models: dict[str, nn.Module],
    deciders: dict[str, Decider],
    address: str | None,
) -> dict:
    """What ``run._sweep`` gives, each (model, condition) swept by a Ray task."""
    ray = connect(address)
    sweep = ray.remote(sweep_task).options(**task_resources(ray, device), max_retries=3)
    stored_images = ray.put(np.ascontiguousarray(images.images.cpu().numpy()))
    stored_models = {}
    for observer, net in models.items():
        try:
            stored_models[observer] = ray.put(net.cpu())
        except Exception as err:  # serialisation fails in many ways (a TorchScript module cannot be pickled)
            raise FreqprobeError(
                f"model {observer} cannot be sent to Ray workers ({type(err).__name__}); probe it without --ray"
            ) from None
    futures = [
        sweep.remote(stored_images, batch_size, device, condition, observer, stored_models[observer],
                     deciders[observer], __version__)
        for observer in models
        for condition in conditions
    ]  # fmt: skip
    decisions = {}
    for part, messages in gather(ray, futures, "probe tasks"):
        decisions.update(part)
        for message in messages:
            warnings.warn(message, stacklevel=3)
    return decisions


def sweep_task(
    images: np.ndarray, batch_size: int, device: str, condition: Condition, observer: str, net: nn.Module,
    decider: Decider, driver_version: str,
) -> tuple[dict, list[str]]:  # fmt: skip
    """In a worker: one model's decisions under one condition, and the warnings raised."""
    from .run import Batches, _sweep

    enter_worker(driver_version)
    device = resolve_device(device)
    batches = Batches(ImageSet(torch.from_numpy(np.array(images))), batch_size, device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decisions = _sweep([condition], batches, {observer: net.to(device)}, {observer: decider})
    return decisions, [str(w.message) for w in caught]
