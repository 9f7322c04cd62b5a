"""Atomic writes: a result file appears whole or not at all; one writer per run folder.

A file is written under a unique temporary name beside its final one (so two writers never
share, or delete, each other's temporary file), flushed to disk with ``fsync``, renamed
onto its final name, and the folder is synced so the rename itself survives a crash.
``folder_lock`` holds an OS file lock on a run folder for as long as one study writes there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import FreqprobeError

#: The strings ``pandas.read_csv`` reads as missing by default (pandas' ``STR_NA_VALUES``):
#: no table may hold one as a value, or it would not read back as written.
MISSING_WORDS = frozenset(
    ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
     "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
)  # fmt: skip


def check_table_names(names, what: str = "name") -> None:
    """Refuse names that would come back from a table as missing values (``NA``, ``null``, …)."""
    for name in names:
        if str(name) in MISSING_WORDS:
            raise FreqprobeError(
                f"{what} {str(name)!r} would read back as a missing value with pandas.read_csv; choose another name"
            )


def check_output_folder(path: str | os.PathLike, what: str = "out", *, try_writing: bool = True) -> Path:
    """Refuse, before any work, an output folder that cannot be made or written: a file in
    its place or above it, or (``try_writing``) a folder this process may not write in.
    Creates nothing; returns ``path`` as a ``Path``."""
    if not isinstance(path, (str, os.PathLike)):
        raise FreqprobeError(f"{what} must be a folder path, got {type(path).__name__}")
    folder = Path(path)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent  # the nearest part of the path that is there
    if not existing.is_dir():
        where = "exists and is not a folder" if existing == folder else f"{existing} is a file, not a folder"
        raise FreqprobeError(f"{what} {folder}: {where}; choose another folder")
    if try_writing:
        try:
            with tempfile.TemporaryFile(dir=existing):
                pass
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise FreqprobeError(f"{what} {folder}: cannot write in {existing} ({reason}); choose another folder") from None
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; rename it onto ``path`` if the block succeeds."""
    final = Path(path)
    check_output_folder(final.parent, "cannot write", try_writing=False)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FreqprobeError(f"cannot write {final}: {error.strerror or type(error).__name__}") from None
    partial = final.with_name(f".{final.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        yield partial
        _sync(partial)
        os.replace(partial, final)
        _sync(final.parent)
    finally:
        partial.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    """``fsync`` a file, or a folder (its entries: a rename within it); folders only on POSIX."""
    if path.is_dir() and os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


LOCK_NAME = ".freqprobe.lock"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, wait: bool = True) -> Iterator[Path]:
    """Hold ``folder``'s writer lock (an OS file lock on ``folder/.freqprobe.lock``).

    A second process asking for the same folder waits (after a one-line warning that names
    the holder's process id) until the first lets go, or with ``wait=False`` is refused
    with a one-line ``FreqprobeError``. The lock goes with the process: a killed writer
    leaves no stale lock. The thread that holds it may take it again (a study inside a
    caller's lock). Where the OS has no ``fcntl`` (Windows) nothing is locked.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FreqprobeError(f"{folder}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    held = (os.path.realpath(folder), threading.get_ident())
    try:
        import fcntl
    except ImportError:
        fcntl = None
    if fcntl is None or held in _HELD:
        yield folder
        return
    _HELD.add(held)
    try:
        with _flock(fcntl, folder, wait):
            yield folder
    finally:
        _HELD.discard(held)


#: The folders whose lock a thread of this process holds: ``(real path, thread id)``.
_HELD: set[tuple[str, int]] = set()


@contextlib.contextmanager
def _flock(fcntl, folder: Path, wait: bool) -> Iterator[None]:
    """The OS lock itself (``flock``): waited for or refused, released on exit."""
    with open(folder / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            if not wait:
                raise FreqprobeError(
                    f"{folder}: another study (process {holder}) is writing there; wait for it or choose another folder"
                ) from None
            # said at once (a warning would wait for the study's end, where ablate gathers them)
            logging.getLogger("freqprobe").warning(
                f"{folder}: another study (process {holder}) is writing there; waiting for it to finish "
                "(its finished runs are then reused, not trained again)"
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        remove_orphaned_partials(folder)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_orphaned_partials(folder: Path) -> list[Path]:
    """Delete the temporary files under ``folder`` whose writer process is gone (a writer
    killed mid-write leaves one; its process id is in the name). Never another live
    writer's: those stay, so no write in progress loses its file."""
    removed = []
    for path in folder.rglob(".*.partial"):
        pid = path.name.rsplit(".", 2)[-2].split("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a CSV atomically; every value reads back with a plain ``pandas.read_csv``."""
    for column in table.columns:
        if not pd.api.types.is_numeric_dtype(table[column]):
            words = {value for value in table[column] if isinstance(value, str) and value in MISSING_WORDS}
            if words:
                raise FreqprobeError(
                    f"{path}: column {column} holds {sorted(words)[0]!r}, which pandas.read_csv reads as missing; "
                    "rename what carries that name"
                )
    with atomic_path(path) as partial:
        table.to_csv(partial, index=False)
    return Path(path)


def write_samples_npz(images_nhwc: np.ndarray, path: str | os.PathLike) -> Path:
    """Write uint8 ``(N, H, W, 3)`` images in the ADM sample convention (key ``arr_0``)."""
    with atomic_path(path) as partial, open(partial, "wb") as handle:
        np.savez(handle, arr_0=images_nhwc)
    return Path(path)


def write_arrays_and_settings(folder: str | os.PathLike, maps: Mapping[str, np.ndarray], settings: dict) -> list[Path]:
    """Write ``maps.npz`` and ``settings.json`` (indented JSON) atomically into ``folder``."""
    folder = Path(folder)
    with atomic_path(folder / "maps.npz") as partial, open(partial, "wb") as handle:
        np.savez(handle, **maps)
    with atomic_path(folder / "settings.json") as partial:
        partial.write_text(json.dumps(settings, indent=2) + "\n")
    return [folder / "maps.npz", folder / "settings.json"]
