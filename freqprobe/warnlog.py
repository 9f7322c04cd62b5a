"""Warnings a run gives, kept in its run folder (``warnings.csv``) so that a report made
later can show them: leakage found while splitting, blank variants, a failed control."""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from .io import write_table

WARNINGS_FILE = "warnings.csv"
F = TypeVar("F", bound=Callable[..., Any])


def records_warnings(folder_argument: str) -> Callable[[F], F]:
    """Decorate a function whose ``folder_argument`` names its run folder: the warnings it
    gives still reach the caller as they are, and are also written to ``warnings.csv`` there
    (one ``message`` per row; a run without warnings leaves an empty table)."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            folder = signature.bind(*args, **kwargs).arguments.get(folder_argument)
            caught: list[warnings.WarningMessage] = []
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")  # every warning is recorded; the caller's filters decide below
                    return function(*args, **kwargs)
            finally:  # also when it fails: the warnings may explain why
                for w in caught:  # to the caller, at its own line, under its own filters (pytest.warns, "error" ...)
                    warnings.warn(w.message, stacklevel=2)
                if isinstance(folder, (str, os.PathLike)) and Path(folder).is_dir():
                    messages = list(dict.fromkeys(str(w.message) for w in caught))
                    write_table(pd.DataFrame({"message": messages}, dtype=str), Path(folder) / WARNINGS_FILE)

        return recorded  # type: ignore[return-value]

    return decorate


def read_warnings(folder: Path) -> list[str]:
    """The messages of a run folder's ``warnings.csv`` (none when it has none)."""
    path = folder / WARNINGS_FILE
    if not path.is_file():
        return []
    return [str(m) for m in pd.read_csv(path, dtype=str).get("message", [])]
