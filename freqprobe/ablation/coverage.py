"""What a study's tables leave out of its run folder: variants of stored runs that this
call did not ask for (an earlier call into the same folder with other variants)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd


def stored_variants(folder: Path) -> set[str]:
    """Every variant some stored run of the folder was scored on (``runs/<key>.json``)."""
    found: set[str] = set()
    for path in sorted((folder / "runs").glob("*.json")):
        try:
            found.update(json.loads(path.read_text()).get("scores", {}))
        except (OSError, ValueError):  # a record being written by another process, or damaged: not ours to judge
            continue
    return found


def warn_about_left_out_variants(folder: Path, table: pd.DataFrame) -> None:
    """Say which stored variants ``results.csv`` and ``summary.csv`` do not cover."""
    left_out = sorted(stored_variants(folder) - set(table["variant"]))
    if left_out:
        warnings.warn(
            f"{folder} also holds stored runs scored on {', '.join(left_out)}, not among this call's variants: "
            "results.csv and summary.csv cover this call's variants only; list them too (--variants) to include "
            "them (stored runs are reused, not retrained)",
            stacklevel=3,
        )
