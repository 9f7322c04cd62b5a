"""Atomic writes: a result file appears whole or not at all."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import FreqprobeError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; rename it onto ``path`` if the block succeeds."""
    final = Path(path)
    if final.parent.exists() and not final.parent.is_dir():
        raise FreqprobeError(f"{final.parent}: exists and is not a folder")
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(f".{final.name}.partial")
    try:
        yield partial
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a CSV atomically."""
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
