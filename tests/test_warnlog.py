"""Warnings of a run, kept in its folder: they reach the caller at the caller's line, and
are kept (and shown) also when the run fails."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from freqprobe.warnlog import WARNINGS_FILE, records_warnings


@records_warnings("out")
def run(out=None, fail: bool = False) -> int:
    warnings.warn("sets hold the same images", stacklevel=2)
    if fail:
        raise RuntimeError("training failed")
    return 1


@pytest.mark.parametrize("in_folder", [False, True])
def test_warnings_reach_the_caller_at_the_callers_line(tmp_path: Path, in_folder: bool) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run(tmp_path if in_folder else None) == 1
    assert [(Path(w.filename).name, str(w.message)) for w in caught] == [("test_warnlog.py", "sets hold the same images")]
    assert (tmp_path / WARNINGS_FILE).exists() == in_folder


def test_a_failed_run_still_shows_and_keeps_its_warnings(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="same images"), pytest.raises(RuntimeError, match="training failed"):
        run(tmp_path, fail=True)
    assert pd.read_csv(tmp_path / WARNINGS_FILE)["message"].tolist() == ["sets hold the same images"]
