"""Error consistency (Geirhos, Meding & Wichmann, NeurIPS 2020): Cohen's kappa on whether
two observers were right or wrong on the same trials.

``c_obs`` is the fraction of trials where both were right or both wrong; two independent
observers with accuracies ``p1, p2`` agree by chance with ``c_exp = p1 p2 + (1 - p1)(1 - p2)``;
``kappa = (c_obs - c_exp) / (1 - c_exp)``. An observer with accuracy 0 or 1 has no errors
(or no successes) to be consistent with: kappa is then NaN, with the reason.
Trials are matched by ``(distortion, condition, image)`` (``image`` as
``freqprobe.probe.trials`` defines it); two observers must have seen the same images in
every condition they share.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import DataError
from .trials import DEFAULT_DISTORTION, TrialSource, read_trial_groups, with_keys

KEYS = ["distortion", "condition", "image"]
COLUMNS = ("observer_a", "observer_b", "distortion", "condition", "observed", "expected", "kappa",
           "n_trials", "accuracy_a", "accuracy_b", "reason")  # fmt: skip


def kappa_from_counts(n: ArrayLike, right_a: ArrayLike, right_b: ArrayLike, agree: ArrayLike) -> dict[str, np.ndarray]:
    """``observed, expected, kappa, accuracy_a, accuracy_b, reason`` from trial counts
    (arrays: trials, right answers of each observer, trials where both were right or wrong).

    With one accuracy at 0 or 1, ``c_obs`` equals ``c_exp`` whatever the trials, so the
    formula gives 0 (or 0/0): NaN instead, with the reason.
    """
    n, right_a, right_b, agree = (np.asarray(v, dtype=float) for v in (n, right_a, right_b, agree))
    p1, p2, observed = right_a / n, right_b / n, agree / n
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    degenerate = np.isin(p1, (0.0, 1.0)) | np.isin(p2, (0.0, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(degenerate, np.nan, (observed - expected) / (1 - expected))
    reason = [_undefined(a, b) for a, b in zip(p1.tolist(), p2.tolist())]
    return {"observed": observed, "expected": expected, "kappa": kappa, "accuracy_a": p1, "accuracy_b": p2,
            "reason": pd.array(reason, dtype="str")}  # fmt: skip  # missing where defined, as a CSV reads back


def _undefined(accuracy_a: float, accuracy_b: float) -> str | None:
    """Why kappa is undefined; ``None`` (missing, as a table reads an empty cell) when it is not."""
    for name, accuracy in (("observer_a", accuracy_a), ("observer_b", accuracy_b)):
        if accuracy in (0.0, 1.0):
            return f"{name} has accuracy {accuracy:g}: no errors or no successes, kappa undefined"
    return None


def _single_observer(trials: pd.DataFrame, which: str) -> pd.DataFrame:
    observers = list(dict.fromkeys(trials["subj"]))
    if len(observers) != 1:
        raise DataError(f"trials_{which} hold {len(observers)} observers ({', '.join(observers[:4])}); give one")
    return trials


def check_unique_images(keyed: pd.DataFrame) -> None:
    """Raise ``DataError`` if an observer has one image twice in a condition (``keyed``: with ``image``)."""
    columns = ["subj", *KEYS]
    twice = keyed[keyed.duplicated(columns, keep=False)]
    if twice.empty:
        return
    row = twice.iloc[0]
    first, second = twice[(twice[columns] == row[columns]).all(axis=1)]["imagename"].iloc[:2]
    of = f" of {row['distortion']}" if row["distortion"] != DEFAULT_DISTORTION else ""
    names = f" ({first} and {second} have one image id, by model-vs-human's rule)" if first != second else ""
    condition = f"condition {row['condition']!r}{of}"
    raise DataError(f"observer {row['subj']} has image {row['image']} twice in {condition}{names}")


def matched_pair(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Trials of two observers side by side (``correct_a``, ``correct_b``) over their shared conditions.

    Raises ``DataError`` if an observer has an image twice in a condition, or if the two
    saw different images in a condition they share.
    """
    names = a["subj"].iloc[0], b["subj"].iloc[0]
    for own in (a, b):
        check_unique_images(own)
    shared = a[["distortion", "condition"]].drop_duplicates().merge(b[["distortion", "condition"]].drop_duplicates())
    if shared.empty:
        seen = [", ".join(sorted(set(own["distortion"] + " " + own["condition"]))[:3]) for own in (a, b)]
        raise DataError(f"observers {names[0]} and {names[1]} share no condition ({names[0]}: {seen[0]}; "
                        f"{names[1]}: {seen[1]})")  # fmt: skip
    a, b = a.merge(shared), b.merge(shared)
    merged = a[[*KEYS, "correct"]].merge(b[[*KEYS, "correct"]], on=KEYS, how="outer", suffixes=("_a", "_b"),
                                          indicator=True)  # fmt: skip
    unmatched = merged[merged["_merge"] != "both"]
    if not unmatched.empty:
        row = unmatched.iloc[0]
        only = names[0] if row["_merge"] == "left_only" else names[1]
        raise DataError(
            f"observers {names[0]} and {names[1]} saw different images in condition {row['condition']!r} "
            f"({row['image']} only by {only}); error consistency needs the same images"
        )
    return merged.drop(columns="_merge").astype({"correct_a": bool, "correct_b": bool})


def _summarise(merged: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    counts = merged.assign(agree=merged["correct_a"] == merged["correct_b"]).groupby(by, sort=False).agg(
        n_trials=("agree", "size"), right_a=("correct_a", "sum"), right_b=("correct_b", "sum"), agree=("agree", "sum")
    )  # fmt: skip
    values = kappa_from_counts(counts["n_trials"], counts["right_a"], counts["right_b"], counts["agree"])
    return counts.assign(**values).drop(columns=["right_a", "right_b", "agree"]).reset_index()


def error_consistency(trials_a: TrialSource, trials_b: TrialSource, distortion: str | None = None) -> dict[str, Any]:
    """Error consistency of two observers, each a trial table of one observer.

    ``distortion``, as ``freqprobe consistency --distortion``: keep that distortion's
    rows, and take a table without a ``distortion`` column (a human's
    ``raw-data/contrast/*.csv``) to be of it; needed when one table has the column and
    the other not.

    Returns ``observed``, ``expected``, ``kappa``, ``n_trials``, ``accuracy_a``,
    ``accuracy_b``, ``reason`` (why kappa is NaN, else missing), pooled over the conditions
    both saw, and ``conditions``: the same per ``(distortion, condition)`` as a table.
    """
    sources = [[t] if isinstance(t, (pd.DataFrame, str, os.PathLike)) else list(t) for t in (trials_a, trials_b)]
    read_a, read_b = read_trial_groups(sources, distortion)
    a = with_keys(_single_observer(read_a, "a"))
    b = with_keys(_single_observer(read_b, "b"))
    merged = matched_pair(a, b)
    pooled = _summarise(merged.assign(pooled="all"), ["pooled"]).iloc[0].drop("pooled").to_dict()
    pooled = {key: (value.item() if isinstance(value, np.generic) else value) for key, value in pooled.items()}
    pooled["n_trials"] = int(pooled["n_trials"])
    return {**pooled, "conditions": _summarise(merged, ["distortion", "condition"])}


def consistency_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Error consistency of every pair of observers in ``trials``: one row per condition
    they share, and one pooled over the conditions of each distortion that has several
    (``condition == "all"``), as model-vs-human's consistency matrices pool them."""
    keyed = with_keys(trials)
    check_unique_images(keyed)  # also for a single observer, who has no pair to be checked in
    observers = list(dict.fromkeys(keyed["subj"]))
    conditions = list(dict.fromkeys(zip(keyed["distortion"], keyed["condition"])))
    distortions = list(dict.fromkeys(keyed["distortion"]))
    rows = []
    for first, second in itertools.combinations(observers, 2):
        merged = matched_pair(keyed[keyed["subj"] == first], keyed[keyed["subj"] == second])
        per_condition = _summarise(merged, ["distortion", "condition"])
        several = merged.groupby("distortion")["condition"].transform("nunique") > 1
        pooled = _summarise(merged[several], ["distortion"]).assign(condition="all")
        # rows in the trials' order (a merge sorts its keys), the pooled rows after them
        keys = zip(per_condition["distortion"], per_condition["condition"])
        per_condition["_order"] = [conditions.index(key) for key in keys]
        pooled["_order"] = [len(conditions) + distortions.index(d) for d in pooled["distortion"]]
        both = pd.concat([per_condition, pooled], ignore_index=True).sort_values("_order")
        rows.append(both.assign(observer_a=first, observer_b=second))
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(rows, ignore_index=True)[list(COLUMNS)]
