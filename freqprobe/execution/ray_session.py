"""Joining Ray: the optional dependency, imported only when ``executor="ray"`` asks for it.

``connect(address)`` joins the cluster at ``address`` (or ``RAY_ADDRESS``, or a cluster
started on this machine with ``ray start``), else starts Ray here with every core; a Ray
already initialised in this process (a notebook, a test session) is used as it is.
Workers need freqprobe importable at the driver's version (``enter_worker`` checks it).
"""

from __future__ import annotations

import os
from typing import Any

import torch

from .._version import __version__
from ..errors import FreqprobeError

EXECUTORS = ("local", "ray")
INSTALL_HINT = "Ray is not installed: pip install 'freqprobe[ray]' (or run without --ray / executor='ray')"


def check_executor(executor: str) -> None:
    """One-line error for an unknown executor, and for ``ray`` without Ray installed."""
    if executor not in EXECUTORS:
        raise FreqprobeError(f"executor must be local or ray, got {executor!r}")
    if executor == "ray":
        import_ray()


def import_ray() -> Any:
    """The ``ray`` module, or a one-line ``FreqprobeError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise FreqprobeError(INSTALL_HINT) from None
    return ray


def connect(address: str | None = None) -> Any:
    """``ray``, initialised: an existing session as it is, else ``ray.init(address)``."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = address or "this machine"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FreqprobeError(f"cannot join Ray at {where}: {first}") from None
    return ray


def gpu_count(ray: Any) -> float:
    """GPUs in the cluster (0 for none)."""
    return float(ray.cluster_resources().get("GPU", 0))


def task_resources(ray: Any, device: str | torch.device) -> dict[str, float]:
    """What one task asks the scheduler for: one CPU, and one GPU where the device is CUDA
    (``auto``: when the cluster has any GPU), so a mixed cluster places each task right."""
    gpus = gpu_count(ray)
    if str(device).startswith("cuda") and gpus == 0:  # Ray would wait for one for ever
        raise FreqprobeError(f"device {device}: the Ray cluster has no GPU; use --device cpu or auto, or add GPU nodes")
    wants_gpu = str(device).startswith("cuda") or (str(device) == "auto" and gpus > 0)
    return {"num_cpus": 1, "num_gpus": 1 if wants_gpu else 0}


def enter_worker(driver_version: str) -> None:
    """First thing in a task: one torch thread (a task per core), and the driver's version
    of freqprobe (runs are keyed by version; a mixed cluster would mix results)."""
    torch.set_num_threads(1)
    if driver_version != __version__:
        raise FreqprobeError(
            f"a Ray worker runs freqprobe {__version__}, the driver {driver_version}; install one version on every node"
        )


def gather(ray: Any, futures: list, desc: str, progress: bool = True) -> list:
    """``ray.get`` of ``futures`` in their order, with a progress bar as they finish."""
    from tqdm.auto import tqdm

    pending = list(futures)
    with tqdm(total=len(futures), desc=desc, disable=None if progress else True) as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            bar.update(len(done))
    return [result(ray, future) for future in futures]


def result(ray: Any, future: Any) -> Any:
    """``ray.get(future)``; a task's error as a one-line ``FreqprobeError`` (a worker that
    died more often than ``max_retries`` allows, or an error in the task itself)."""
    try:
        return ray.get(future)
    except ray.exceptions.RayTaskError as err:
        cause = err.cause if err.cause is not None else err
        if isinstance(cause, FreqprobeError):
            raise type(cause)(str(cause)) from None  # a TrainingError stays one
        text = " ".join(str(cause).split())  # Ray's messages span lines
        raise FreqprobeError(f"a Ray task failed: {type(cause).__name__}: {text[-300:]}") from None
    except ray.exceptions.RayError as err:
        text = " ".join(str(err).split())
        raise FreqprobeError(f"a Ray task failed: {type(err).__name__}: {text[:300]}") from None
