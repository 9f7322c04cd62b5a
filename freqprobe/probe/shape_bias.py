"""Shape bias on cue-conflict images (Geirhos et al., ICLR 2019).

A cue-conflict image carries the shape of one class and the texture of another
(``<shape><i>-<texture><j>.png``). Images whose shape and texture classes agree are
dropped; of the rest, a decision is a shape decision if it names the shape class, a texture
decision if it names the texture class (other answers count for neither). Shape bias =
shape decisions / (shape + texture decisions). ``frac_shape`` and ``frac_texture`` are
those decisions over the cue-conflict trials kept (model-vs-human divides by all trials,
dropped ones included; the shape bias is the same).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .trials import TrialSource, cue_conflict, read_trials

GROUP = ["subj", "distortion", "condition"]
COLUMNS = ("observer", "distortion", "condition", "class", "shape_bias", "frac_shape", "frac_texture",
           "n_trials", "n_conflict", "n_shape", "n_texture", "reason")  # fmt: skip


def shape_bias_table(trials: pd.DataFrame, classes: Collection[str] | None = None) -> pd.DataFrame:
    """Shape bias per observer and condition, overall (``class == "all"``) and per shape class.

    Empty (with its columns) when no trial shows a cue-conflict image.
    """
    found = cue_conflict(trials, classes)
    if found.empty:
        return pd.DataFrame(columns=COLUMNS)
    found = found.assign(
        conflict=found["shape"] != found["texture"],
        said_shape=(found["shape"] != found["texture"]) & (found["object_response"] == found["shape"]),
        said_texture=(found["shape"] != found["texture"]) & (found["object_response"] == found["texture"]),
    )
    overall = _counts(found, GROUP).assign(**{"class": "all"})
    per_class = _counts(found, [*GROUP, "category"]).rename(columns={"category": "class"})
    table = pd.concat([overall, per_class], ignore_index=True).rename(columns={"subj": "observer"})
    decided = table["n_shape"] + table["n_texture"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["shape_bias"] = np.where(decided > 0, table["n_shape"] / decided, np.nan)
        table["frac_shape"] = np.where(table["n_conflict"] > 0, table["n_shape"] / table["n_conflict"], np.nan)
        table["frac_texture"] = np.where(table["n_conflict"] > 0, table["n_texture"] / table["n_conflict"], np.nan)
    table["reason"] = pd.array(np.where(  # no reason: missing (an empty string reads back from a CSV as missing anyway)
        table["n_conflict"] == 0, "no image with different shape and texture classes",
        np.where(decided == 0, "no shape or texture decision", None),
    ), dtype="str")  # fmt: skip
    observer_order = table["observer"].map({name: k for k, name in enumerate(dict.fromkeys(trials["subj"]))})
    table = table.assign(_observer=observer_order, _per_class=table["class"] != "all")
    table = table.sort_values(["_observer", "_per_class"], kind="stable")
    return table[list(COLUMNS)].reset_index(drop=True)


def _counts(found: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    counts = found.groupby(by, sort=False).agg(
        n_trials=("conflict", "size"), n_conflict=("conflict", "sum"),
        n_shape=("said_shape", "sum"), n_texture=("said_texture", "sum"),
    )  # fmt: skip
    return counts.reset_index()


def shape_bias(trials: TrialSource) -> dict[str, Any]:
    """Shape bias of the observer in a trial table, pooled over its rows.

    Returns ``shape_bias``, ``frac_shape``, ``frac_texture``, the counts, ``reason`` (why
    the bias is NaN, else empty) and ``per_class`` (shape class -> shape bias). For a table
    of several observers: a dict of such dicts, keyed by observer. Filter by condition first
    to get one condition's bias.
    """
    table = read_trials(trials).assign(distortion="all", condition="all")
    rows = shape_bias_table(table)
    if rows.empty:
        raise DataError("no cue-conflict images (named <shape><i>-<texture><j>.<ext>) among the trials")
    results = {}
    for observer, own in rows.groupby("observer", sort=False):
        overall = own[own["class"] == "all"].iloc[0].drop(["observer", "distortion", "condition", "class"])
        result = {key: value.item() if isinstance(value, np.generic) else value for key, value in overall.items()}
        classes = own[own["class"] != "all"]
        result["per_class"] = dict(zip(classes["class"], classes["shape_bias"].astype(float)))
        results[str(observer)] = result
    return next(iter(results.values())) if len(results) == 1 else results
