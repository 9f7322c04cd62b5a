"""On-disk cache of decoded image sets: ``<key>.npy`` (uint8 NCHW) plus ``<key>.json``.

The key hashes everything that decides the pixels: the absolute source path, every file's
``(relative path, size in bytes, mtime_ns)``, the size policy, ``on_error``, the Pillow and
OpenCV versions (decoders and ``crop="resize"``'s ``cv2.INTER_AREA`` may differ across
releases) and ``CACHE_FORMAT``. Touching or replacing any file changes the key. The array
is decoded straight into a memory-mapped temporary file, and both files are published by
``os.replace`` (the ``.json`` last, so its presence marks a complete entry): a failure
never leaves a partial entry behind. Temporary files carry the host and process id of
their writer; one whose writer is gone (a killed build) is deleted by the next build. A hit is memory-mapped copy-on-write
(``mmap_mode="c"``): torch gets a writable array without copying it, and writes stay in
memory instead of reaching the cache file.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import PIL

from ..io import check_output_folder, process_alive
from .image_files import LoadReport
from .memory import check_disk_room
from .sizing import SizePolicy

CACHE_FORMAT = 1


def file_entries(root: Path, names: list[str]) -> list[tuple[str, int, int]]:
    """``(name, size in bytes, mtime_ns)`` of each file ``root / name``."""
    entries = []
    for name in names:
        stat = os.stat(root / name)
        entries.append((name, stat.st_size, stat.st_mtime_ns))
    return entries


def cache_key(source: Path, entries: list[tuple[str, int, int]], policy: SizePolicy, on_error: str) -> str:
    """A hex digest naming one decoded set (see the module docstring for what it covers)."""
    payload = {
        "format": CACHE_FORMAT,
        "pillow": PIL.__version__,
        "opencv": cv2.__version__,
        "source": str(source.resolve()),
        "files": entries,
        "policy": policy.describe(),
        "on_error": on_error,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


class ImageCache:
    """One cache entry, ``folder / key``.

    Args:
        folder: the cache folder (created when an entry is written).
        key: from ``cache_key``.
    """

    def __init__(self, folder: str | os.PathLike[str], key: str) -> None:
        self.folder = Path(folder)
        self.array_path = self.folder / f"{key}.npy"
        self.report_path = self.folder / f"{key}.json"

    def read(self) -> tuple[np.ndarray, LoadReport] | None:
        """The cached images (memory-mapped) and their report, or ``None`` on a miss."""
        if not self.report_path.exists():
            return None
        try:
            report = LoadReport(**json.loads(self.report_path.read_text()))
            array = np.load(self.array_path, mmap_mode="c")
        except (OSError, ValueError, TypeError):  # missing, unreadable or foreign: rebuild it
            return None
        if array.ndim != 4 or array.dtype != np.uint8 or array.shape[0] < len(report.names):
            return None
        return array[: len(report.names)], report

    def build(
        self, shape: tuple[int, int, int, int], fill: Callable[[np.ndarray], LoadReport], label: str = "images"
    ) -> tuple[np.ndarray, LoadReport]:
        """Let ``fill`` decode into a new on-disk array of ``shape``, publish it, and read it back.

        ``fill`` returns the report; rows past ``len(report.names)`` are ignored (skipped files).
        """
        check_output_folder(self.folder, "cache")
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_orphans(self.folder)
        check_disk_room(self.folder, shape, label)
        suffix = f".{_HOST}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        array_tmp = self.array_path.with_name(self.array_path.name + suffix)
        report_tmp = self.report_path.with_name(self.report_path.name + suffix)
        try:
            array = np.lib.format.open_memmap(array_tmp, mode="w+", dtype=np.uint8, shape=shape)
            report = fill(array)
            array.flush()
            del array  # closes the map before the rename (required on Windows)
            report_tmp.write_text(json.dumps(asdict(report)))
            os.replace(array_tmp, self.array_path)
            os.replace(report_tmp, self.report_path)
        finally:
            array_tmp.unlink(missing_ok=True)
            report_tmp.unlink(missing_ok=True)
        return np.load(self.array_path, mmap_mode="c")[: len(report.names)], report


_HOST = socket.gethostname().replace(".", "-")


def remove_orphans(folder: Path) -> None:
    """Delete temporary files of builds whose process is gone (killed before its cleanup):
    ``<entry>.<host>.<pid>.<uuid>.tmp`` written on this host by a pid that no longer runs."""
    for path in folder.glob(f"*.{_HOST}.*.tmp"):
        pid = path.name.removesuffix(".tmp").split(".")[-2]
        if pid.isdigit() and not process_alive(int(pid)):
            path.unlink(missing_ok=True)

