"""A participant's trial table on disk: a CSV that grows by one fsynced record per response.

The header is written once, atomically, when the file is made; each response is then
appended as one complete CSV record, flushed and ``fsync``-ed before it is acknowledged,
so a response costs the same however long the session (the whole table is never
rewritten). A crash can thus leave at most a torn last record: ``read_trials`` leaves it
out and ``recover`` cuts it off before the session resumes. The records are what
``pandas.DataFrame.to_csv`` writes, so the table reads back with plain ``pandas.read_csv``.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..io import atomic_path

COLUMNS = ("subj", "session", "trial", "rt", "object_response", "category", "condition", "imagename")


def _record(values: Sequence[str]) -> str:
    """One CSV record as ``to_csv`` writes it; all quoted if a field holds a carriage return,
    which readers take for a line end and the ``csv`` module (before Python 3.12) leaves bare."""
    buffer = io.StringIO(newline="")
    quoting = csv.QUOTE_ALL if any("\r" in value for value in values) else csv.QUOTE_MINIMAL
    csv.writer(buffer, lineterminator="\n", quoting=quoting).writerow(values)
    return buffer.getvalue()


def _complete(path: Path) -> tuple[list[list[str]], int]:
    """The rows of ``path``'s complete records (header apart) and their length in bytes:
    the longest prefix of records of ``len(COLUMNS)`` fields, each as this module writes it."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")  # a torn character: bytes kept as they are
    records, kept = [], 0
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            values = next(reader)
        except (StopIteration, csv.Error):  # csv.Error: a torn field past the csv module's size limit
            break
        record = _record(values)
        if len(values) != len(COLUMNS) or not text.startswith(record, kept):
            break
        records.append(values)
        kept += len(record)
    return records[1:], len(text[:kept].encode("utf-8", errors="surrogateescape"))


def read_trials(path: Path) -> pd.DataFrame:
    """The table's complete records as text (a record being written, or torn, left out)."""
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame(_complete(path)[0], columns=COLUMNS)


def recover(path: Path) -> int:
    """Cut a torn last record (a crash mid-write) off ``path``, warning; the number of
    complete records left (0 without a file)."""
    if not path.exists():
        return 0
    rows, length = _complete(path)
    if path.stat().st_size > length:
        warnings.warn(f"{path}: dropped an incomplete last line (written when a crash came); "
                      f"the session resumes at trial {len(rows) + 1}", stacklevel=2)  # fmt: skip
        with open(path, "r+b") as handle:
            handle.truncate(length)
            handle.flush()
            os.fsync(handle.fileno())
    return len(rows)


def append_trial(path: Path, values: Sequence[str]) -> None:
    """Append one record to ``path`` (made with its header first), durably: on return it is
    on disk; if the write fails, the file is cut back to what it was."""
    if not path.exists() or path.stat().st_size == 0:
        with atomic_path(path) as partial:
            partial.write_bytes(_record(COLUMNS).encode())
    data = _record(values).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        size = os.fstat(descriptor).st_size
        try:
            while data:
                data = data[os.write(descriptor, data) :]
            os.fsync(descriptor)
        except OSError:
            os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)
