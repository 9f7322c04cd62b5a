"""The result of an experiment: each observer's accuracy with its interval, the
classifier's beside it on the same trials (``classifier.csv``, when a model was given),
and attention checks passed (``summary.csv``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io import write_table
from ..stats.accuracy import wilson_interval
from .experiment import ATTENTION, Experiment
from .trial_table import read_trials

COLUMNS = ("observer", "kind", "n_trials", "accuracy", "ci_low", "ci_high", "attention_passed", "attention_checks")


def session_tables(folder: Path, experiment: Experiment) -> list[Path]:
    return sorted(folder.glob(f"{experiment.name}_*_session_*.csv"))


def summary_table(folder: str | Path) -> pd.DataFrame:
    """One row per participant (``kind == "human"``) and the classifier, if any (``"model"``):
    accuracy over the real trials (attention checks apart) with its 95 % Wilson interval."""
    folder = Path(folder)
    experiment = Experiment.load(folder)
    # a table being appended to (another session) may end in a record not yet complete: left out
    tables = [(read_trials(path), "human") for path in session_tables(folder, experiment)]
    if (folder / "classifier.csv").exists():
        tables.append((pd.read_csv(folder / "classifier.csv", dtype=str, keep_default_na=False), "model"))
    rows = []
    for table, kind in tables:
        if table.empty:
            continue
        checks = table[table["condition"] == ATTENTION]
        trials = table[table["condition"] != ATTENTION]
        correct = int((trials["object_response"] == trials["category"]).sum())
        low, high = wilson_interval(correct, len(trials)) if len(trials) else (float("nan"),) * 2
        rows.append({"observer": table["subj"].iloc[0], "kind": kind, "n_trials": len(trials),
                     "accuracy": correct / len(trials) if len(trials) else float("nan"), "ci_low": low,
                     "ci_high": high, "attention_checks": len(checks),
                     "attention_passed": int((checks["object_response"] == checks["category"]).sum())})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def write_summary(folder: str | Path) -> Path:
    """Write ``summary.csv`` (``summary_table``) atomically."""
    return write_table(summary_table(folder), Path(folder) / "summary.csv")
