"""Room for a decoded set: checked before the array is allocated, so an image set too large
for this machine is a one-line error instead of a ``MemoryError`` (or the system swapping)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import DataError


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or ``None``."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this platform
        return None


def allocate_images(shape: tuple[int, int, int, int], label: str) -> np.ndarray:
    """An empty uint8 ``(N, 3, H, W)`` array, or a ``DataError`` when it cannot fit in memory."""
    needed = int(np.prod(shape, dtype=object))
    available = available_memory()
    if available is not None and needed > available:
        raise DataError(f"{label}: {_images(shape)} need {_gib(needed)} of memory, {_gib(available)} is available; "
                        "load fewer or smaller images (size=), or give cache=DIR to keep them on disk")  # fmt: skip
    try:
        return np.empty(shape, dtype=np.uint8)
    except MemoryError:
        raise DataError(f"{label}: {_images(shape)} ({_gib(needed)}) do not fit in memory; load fewer or smaller "
                        "images (size=), or give cache=DIR to keep them on disk") from None  # fmt: skip


def check_disk_room(folder: Path, shape: tuple[int, int, int, int], label: str) -> None:
    """A ``DataError`` when the cache folder's disk cannot hold the decoded set."""
    needed = int(np.prod(shape, dtype=object))
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise DataError(f"{label}: {_images(shape)} need {_gib(needed)} in the cache folder {folder}, "
                        f"{_gib(free)} is free there; choose another cache folder")  # fmt: skip


def _images(shape: tuple[int, ...]) -> str:
    return f"{shape[0]} images of {shape[2]}x{shape[3]}"


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB"
