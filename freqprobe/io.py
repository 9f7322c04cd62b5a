"""Atomic writes: a result file appears whole or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
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
    partial = final.with_name(f".{final.name}.partial")
    try:
        yield partial
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


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
