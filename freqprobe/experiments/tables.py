"""Reading the tables of an experiment's run folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import FreqprobeError


def read_table(path: Path, what: str, names: tuple[str, ...] = ()) -> pd.DataFrame:
    """A saved CSV, read with plain pandas (no value freqprobe writes reads back as missing);
    the ``names`` columns stay text (sets named ``10000`` by their checkpoint folder);
    a missing file is a one-line error."""
    if not path.is_file():
        raise FreqprobeError(f"{path.parent}: no {path.name} (not {what})")
    return pd.read_csv(path, dtype=dict.fromkeys(names, str))
