"""Accuracy per observer and condition, with Wilson intervals: the robustness curves."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ..errors import FreqprobeError
from ..stats.accuracy import wilson_interval
from .distortions import DISTORTIONS, filter_bank_condition

COLUMNS = ("model", "distortion", "condition", "level", "accuracy", "ci_low", "ci_high", "n_trials", "n_correct")


def condition_level(distortion: str, condition: str) -> float:
    """The numeric level of a condition label: the benchmark's spelling, a number or a
    filter-bank spec (its first argument); NaN when it is none of these."""
    first = DISTORTIONS[distortion].parse if distortion in DISTORTIONS else float
    for parse in (first, lambda label: filter_bank_condition(label).level):
        try:
            return parse(condition)
        except (FreqprobeError, ValueError):
            continue
    return math.nan


def curves_table(trials: pd.DataFrame, levels: Mapping[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """One row per ``(observer, distortion, condition)``: accuracy and its 95 % Wilson interval.

    ``levels`` maps ``(distortion, condition)`` to the level (default: read from the
    label). Rows follow the observers' and distortions' first appearance, then the level:
    rising, except for the benchmark distortions whose level falls as they grow (contrast,
    high-pass), so the benchmark's run from mild to strong; levels that are no number last.
    """
    counts = (
        trials.assign(correct=trials["object_response"] == trials["category"])
        .groupby(["subj", "distortion", "condition"], sort=False)["correct"]
        .agg(n_trials="size", n_correct="sum")
        .reset_index()
        .rename(columns={"subj": "model"})
    )
    keys = zip(counts["distortion"], counts["condition"])
    counts["level"] = [levels[key] if levels and key in levels else condition_level(*key) for key in keys]
    counts["accuracy"] = counts["n_correct"] / counts["n_trials"]
    intervals = [wilson_interval(int(k), int(n)) for k, n in zip(counts["n_correct"], counts["n_trials"])]
    counts["ci_low"], counts["ci_high"] = zip(*intervals)
    descending = counts["distortion"].map(lambda d: d in DISTORTIONS and DISTORTIONS[d].descending)
    counts["_order"] = counts["level"].where(~descending, -counts["level"])
    counts["_model"] = counts["model"].map({m: k for k, m in enumerate(dict.fromkeys(counts["model"]))})
    counts["_distortion"] = counts["distortion"].map({d: k for k, d in enumerate(dict.fromkeys(counts["distortion"]))})
    counts = counts.sort_values(["_model", "_distortion", "_order"], kind="stable", na_position="last")
    return counts[list(COLUMNS)].reset_index(drop=True)
