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
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import DataError
from .conditions import harmonise_conditions
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


def dropped_text(names: Sequence[str], only: Sequence[Sequence[tuple[str, str]]], n_shared: int) -> str:
    """``"kappa over the 6 shared conditions; left out: high-pass 0.55, 0.45 (only a)"``."""
    parts = []
    for name, own in zip(names, only):
        if own:
            listed = ", ".join(f"{d} {c}" if d != DEFAULT_DISTORTION else c for d, c in own[:4])
            parts.append(f"{listed}{', …' if len(own) > 4 else ''} (only {name}: {len(own)})")
    return f"kappa over the {n_shared} shared conditions; left out: {'; '.join(parts)}"


def different_images(names: Sequence[str], condition: str, image: str, owner: int) -> DataError:
    return DataError(
        f"observers {names[0]} and {names[1]} saw different images in condition {condition!r} "
        f"({image} only by {names[owner]}); error consistency needs the same images"
    )


def _with_kappa(counts: pd.DataFrame) -> pd.DataFrame:
    """Rows of trial counts (``n_trials, right_a, right_b, agree``) with their kappa values
    in place of the counts of right answers and agreements."""
    values = kappa_from_counts(counts["n_trials"], counts["right_a"], counts["right_b"], counts["agree"])
    return counts.assign(**values).drop(columns=["right_a", "right_b", "agree"])


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
    for own in (a, b):
        check_unique_images(own)
    names = [a["subj"].iloc[0], b["subj"].iloc[0]]
    if names[0] == names[1]:  # one name for two tables: told apart by their place
        names = [f"{names[0]} (a)", f"{names[1]} (b)"]
    keyed = pd.concat([a.assign(subj=names[0]), b.assign(subj=names[1])], ignore_index=True)
    counts = pair_counts(keyed, names)
    dropped = check_pair(keyed, counts, names, 0, 1)
    if dropped:
        warnings.warn(f"observers {names[0]} and {names[1]}: {dropped}", stacklevel=2)
    rows = _pair_rows(counts, [(0, 1)], names)
    rows = rows.loc[~rows["pooled"], ["distortion", "condition", "n_trials", "right_a", "right_b", "agree"]]
    total = rows[["n_trials", "right_a", "right_b", "agree"]].sum().to_frame().T
    pooled = _with_kappa(total.astype({"n_trials": int})).iloc[0].to_dict()
    pooled = {key: (value.item() if isinstance(value, np.generic) else value) for key, value in pooled.items()}
    return {**pooled, "conditions": _with_kappa(rows).reset_index(drop=True)}


def consistency_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Error consistency of every pair of observers in ``trials``: one row per condition
    they share, and one pooled over the conditions of each distortion that has several
    (``condition == "all"``), as model-vs-human's consistency matrices pool them.

    Condition labels are harmonised first (``freqprobe.probe.conditions``); conditions
    that only one observer of a pair has are left out of that pair's rows, with one
    warning for all pairs. Counted for all pairs at once (``pair_counts``).
    """
    (keyed,) = harmonise_conditions([with_keys(trials)])
    check_unique_images(keyed)  # also for a single observer, who has no pair to be checked in
    observers = list(dict.fromkeys(keyed["subj"]))
    if len(observers) < 2:
        return pd.DataFrame(columns=COLUMNS)
    counts = pair_counts(keyed, observers)
    pairs, dropped = [], []
    for first, second in itertools.combinations(range(len(observers)), 2):
        names = observers[first], observers[second]
        text = check_pair(keyed, counts, names, first, second)
        if text:
            dropped.append(f"{names[0]} vs {names[1]}: {text}")
        pairs.append((first, second))
    if dropped:
        more = f" (and {len(dropped) - 1} more pairs)" if len(dropped) > 1 else ""
        warnings.warn(f"{len(dropped)} observer pairs do not share every condition; {dropped[0]}{more}", stacklevel=2)
    return _with_kappa(_pair_rows(counts, pairs, observers))[list(COLUMNS)]


def check_pair(keyed: pd.DataFrame, counts: dict[str, Any], names: Sequence[str], first: int, second: int) -> str:
    """Check observers ``first`` and ``second`` (indices into ``counts``' observers, named
    ``names``): ``DataError`` if they share no condition or saw different images in one
    they share; else what their rows leave out ("" when they share every condition)."""
    conditions = counts["conditions"]
    has_a, has_b = counts["n_own"][:, first] > 0, counts["n_own"][:, second] > 0
    shared = has_a & has_b
    if not shared.any():
        seen = [", ".join(sorted(f"{d} {c}" for (d, c), h in zip(conditions, has) if h)[:3]) for has in (has_a, has_b)]
        raise DataError(f"observers {names[0]} and {names[1]} share no condition ({names[0]}: {seen[0]}; "
                        f"{names[1]}: {seen[1]})")  # fmt: skip
    check_same_images(keyed, counts, names, first, second, shared)
    if not (has_a != has_b).any():
        return ""
    only = [[key for key, h in zip(conditions, has & ~shared) if h] for has in (has_a, has_b)]
    return dropped_text(names, only, int(shared.sum()))


def factorize_pairs(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Codes of ``(first, second)`` string pairs in order of appearance, and the pairs
    (faster than a ``MultiIndex`` for long tables)."""
    first_codes, first_values = pd.factorize(first)
    second_codes, second_values = pd.factorize(second)
    codes, combined = pd.factorize(first_codes.astype(np.int64) * len(second_values) + second_codes)
    pairs = [(first_values[c // len(second_values)], second_values[c % len(second_values)]) for c in combined]
    return codes.astype(np.int64), pairs


def pair_counts(keyed: pd.DataFrame, observers: Sequence[str]) -> dict[str, Any]:
    """Trial counts of every pair of observers per condition, by matrix products.

    Returns ``conditions`` (``(distortion, condition)`` in order of appearance) and arrays
    over ``(condition, observer_a, observer_b)``: ``n`` (images both saw), ``right`` (of
    those, right by ``a``), ``agree`` (both right or both wrong); and ``n_own``
    ``(condition, observer)``: trials of each observer.
    """
    condition_codes, conditions = factorize_pairs(keyed["distortion"], keyed["condition"])
    image_codes = pd.factorize(keyed["image"])[0].astype(np.int64)
    item_codes, items = pd.factorize(condition_codes * (image_codes.max() + 1) + image_codes)
    observer_codes = pd.Index(observers).get_indexer(keyed["subj"])
    present = np.zeros((len(observers), len(items)))
    right = np.zeros_like(present)
    present[observer_codes, item_codes] = 1.0
    right[observer_codes, item_codes] = keyed["correct"].to_numpy(dtype=float)
    item_condition = items // (image_codes.max() + 1)
    shape = (len(conditions), len(observers), len(observers))
    n, right_a, agree = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for c in range(len(conditions)):
        columns = item_condition == c
        p, r = present[:, columns], right[:, columns]
        wrong = p - r
        n[c], right_a[c], agree[c] = p @ p.T, r @ p.T, r @ r.T + wrong @ wrong.T
    return {"conditions": list(conditions), "n": n, "right": right_a, "agree": agree,
            "n_own": np.stack([np.diagonal(n[c]) for c in range(len(conditions))])}  # fmt: skip


def check_same_images(keyed: pd.DataFrame, counts: dict[str, Any], names: Sequence[str], first: int, second: int,
                       shared: np.ndarray) -> None:  # fmt: skip
    """Raise ``DataError`` naming an image if observers ``first`` and ``second`` (indices into
    ``counts``' observers) saw different images in a condition they share."""
    n_own, both = counts["n_own"], counts["n"][:, first, second]
    differ = shared & ((both != n_own[:, first]) | (both != n_own[:, second]))
    if not differ.any():
        return
    distortion, condition = counts["conditions"][int(np.flatnonzero(differ)[0])]
    in_condition = keyed[(keyed["distortion"] == distortion) & (keyed["condition"] == condition)]
    images = [set(in_condition.loc[in_condition["subj"] == name, "image"]) for name in names]
    owner = 0 if images[0] - images[1] else 1
    raise different_images(names, condition, sorted(images[owner] - images[1 - owner])[0], owner)


def _pair_rows(counts: dict[str, Any], pairs: Sequence[tuple[int, int]], observers: Sequence[str]) -> pd.DataFrame:
    """Counts of each pair (in order): per shared condition (in order of appearance), then
    pooled per distortion with several shared conditions (``condition == "all"``)."""
    first, second = np.array(pairs).T
    n_own = counts["n_own"]
    shared = ((n_own[:, first] > 0) & (n_own[:, second] > 0)).T  # (pair, condition)
    values = {"n_trials": counts["n"][:, first, second].T, "right_a": counts["right"][:, first, second].T,
              "right_b": counts["right"][:, second, first].T, "agree": counts["agree"][:, first, second].T}  # fmt: skip
    distortion_codes, distortions = pd.factorize(pd.Index([d for d, _ in counts["conditions"]]))
    one_hot = np.eye(len(distortions))[distortion_codes]  # (condition, distortion)
    several = shared.astype(float) @ one_hot > 1  # (pair, distortion)
    per_pair, per_condition = np.nonzero(shared)
    pooled_pair, pooled_distortion = np.nonzero(several)
    conditions = [c for _, c in counts["conditions"]]
    table = pd.DataFrame({
        "pair": np.concatenate([per_pair, pooled_pair]),
        "pooled": np.concatenate([np.zeros(len(per_pair), bool), np.ones(len(pooled_pair), bool)]),
        "distortion": [*distortions[distortion_codes[per_condition]], *distortions[pooled_distortion]],
        "condition": [*(conditions[c] for c in per_condition), *(["all"] * len(pooled_pair))],
        **{name: np.concatenate([v[per_pair, per_condition], ((v * shared) @ one_hot)[pooled_pair, pooled_distortion]])
           for name, v in values.items()},
    })  # fmt: skip
    table = table.sort_values(["pair", "pooled"], kind="stable").reset_index(drop=True)
    names = np.array(observers, dtype=object)
    return table.assign(observer_a=names[first[table["pair"]]], observer_b=names[second[table["pair"]]],
                        n_trials=table["n_trials"].astype(int))  # fmt: skip
