"""Trial tables: one row per decision, in model-vs-human's raw-data format.

Columns ``subj`` (the observer), ``condition`` (the level, as the benchmark spells it),
``imagename``, ``category`` (the true class; the shape class of a cue-conflict image) and
``object_response`` (the observer's answer), plus ``distortion`` (which sweep the condition
belongs to). Models (``trials.csv`` of a probe run) and humans (the benchmark's
``raw-data/*.csv``, which also carry ``session, trial, rt``) are read the same way.

Images are matched across observers by ``(category, image id)``. The image id is the file
name without folders and without a per-trial prefix, by model-vs-human's rule
(``get_short_imagename``): split the name at ``_``; keep the last part, or the last two
when the second-to-last starts with ``n0`` (an ImageNet name such as ``n02951358_5952.JPEG``).
So ``0001_cl_s01_0_airplane1-bicycle2.png`` and ``airplane/airplane1-bicycle2.png`` are one
image. (Hence names that differ only before their last ``_`` are one image too.)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .conditions import harmonise_conditions

REQUIRED = ("subj", "imagename", "category", "object_response")
COLUMNS = ("subj", "distortion", "condition", "imagename", "category", "object_response")
#: Filled in when a table has no such column.
DEFAULT_CONDITION = "all"
DEFAULT_DISTORTION = "all"
#: A cue-conflict image id: ``<shape><i>-<texture><j>.<ext>`` (texture-vs-shape convention).
CUE_CONFLICT = r"^(?P<shape>[A-Za-z]+)\d+-(?P<texture>[A-Za-z]+)\d+\.\w+$"

TrialSource = pd.DataFrame | str | os.PathLike[str]


def image_id(name: str) -> str:
    """The image part of a trial's image name (see the module docstring).

    >>> image_id("0001_cl_s01_0_airplane1-bicycle2.png"), image_id("airplane/airplane1-bicycle2.png")
    ('airplane1-bicycle2.png', 'airplane1-bicycle2.png')
    """
    parts = str(name).replace("\\", "/").rsplit("/", 1)[-1].split("_")
    if len(parts) > 1 and parts[-2].startswith("n0"):
        return "_".join(parts[-2:])
    return parts[-1]


def read_trials(sources: TrialSource | Sequence[TrialSource], distortion: str | None = None) -> pd.DataFrame:
    """One trial table from CSV files and/or data frames, columns normalised.

    Column names are lower-cased; ``condition`` defaults to ``"all"``; condition labels
    of one meaning get one spelling (``1`` and ``1.0``, ``true`` and ``True``; see
    ``freqprobe.probe.conditions``). With ``distortion``,
    tables that have a ``distortion`` column keep only its rows, and tables without one
    are taken to be of it; without, either every table has the column or none has.
    An empty ``object_response`` (no answer) counts as a wrong answer, as model-vs-human
    counts its ``na``; a warning gives how many there are.
    """
    if isinstance(sources, (pd.DataFrame, str, os.PathLike)):
        sources = [sources]
    (trials,) = read_trial_groups([sources], distortion)
    return trials


def read_trial_groups(groups: Sequence[Sequence[TrialSource]], distortion: str | None = None) -> list[pd.DataFrame]:
    """One trial table per group of sources (say, one per observer), read as ``read_trials``
    reads them, with the rule for the ``distortion`` column applied across all groups and
    one spelling per condition across all (``freqprobe.probe.conditions``)."""
    tables = [[_read_one(source) for source in group] for group in groups]
    if any(not group for group in tables):
        raise DataError("no trial tables given")
    has_column = ["distortion" in table.columns for group in tables for table in group]
    if distortion is None and any(has_column) and not all(has_column):
        raise DataError(
            "some trial tables have a distortion column and some not; pick one distortion "
            "(distortion= in Python, --distortion on the command line)"
        )
    combined = []
    for group in tables:
        normalised = []
        for table in group:
            if "distortion" not in table.columns:
                table["distortion"] = distortion or DEFAULT_DISTORTION
            elif distortion is not None:
                table = table[table["distortion"] == distortion]
            normalised.append(table)
        trials = pd.concat(normalised, ignore_index=True)
        if trials.empty:
            raise DataError(f"no trials of distortion {distortion!r}")
        combined.append(trials)
    combined = harmonise_conditions(combined)
    unanswered = sum(int((trials["object_response"] == "").sum()) for trials in combined)
    if unanswered:
        total = sum(len(trials) for trials in combined)
        warnings.warn(
            f"{unanswered} of {total} trials have an empty object_response; they count as wrong answers "
            "(as model-vs-human counts 'na')",
            stacklevel=3,
        )
    return combined


def _read_one(source: TrialSource) -> pd.DataFrame:
    where = "trial table" if isinstance(source, pd.DataFrame) else str(source)
    if isinstance(source, pd.DataFrame):
        table = source.copy()
    elif not isinstance(source, (str, os.PathLike)):
        raise DataError(f"a trial table is a CSV file or a DataFrame, got {type(source).__name__}")
    else:
        if not Path(source).is_file():
            raise DataError(f"{source}: no such file")
        try:
            table = pd.read_csv(source, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise DataError(f"{source}: empty file; a trial table needs columns {', '.join(REQUIRED)}") from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise DataError(f"{source}: not a CSV trial table ({first})") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise DataError(f"{where}: missing column {missing[0]!r} (need {', '.join(REQUIRED)})")
    if table.empty:
        raise DataError(f"{where}: no trials")
    if "condition" not in table.columns:
        table["condition"] = DEFAULT_CONDITION
    for column in (*REQUIRED, "condition", *(["distortion"] if "distortion" in table.columns else [])):
        table[column] = table[column].fillna("").astype(str).str.strip()
    return table


def with_keys(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials with ``image`` (the matching key: ``category/image id``) and ``correct``."""
    keyed = trials.copy()
    keyed["image"] = keyed["category"] + "/" + keyed["imagename"].map(image_id)
    keyed["correct"] = keyed["object_response"] == keyed["category"]
    return keyed


def cue_conflict(trials: pd.DataFrame, classes: Collection[str] | None = None) -> pd.DataFrame:
    """The cue-conflict trials, with ``shape`` (= category) and ``texture`` columns.

    Raises ``DataError`` when a file name's shape disagrees with its category, or names a
    texture class not among ``classes`` (default: the categories and responses seen).
    """
    parsed = trials["imagename"].map(image_id).str.extract(CUE_CONFLICT)
    found = trials.assign(shape=parsed["shape"], texture=parsed["texture"])
    found = found[found["shape"].notna()]
    wrong = found[found["shape"] != found["category"]]
    if not wrong.empty:
        row = wrong.iloc[0]
        raise DataError(
            f"image {row['imagename']}: its name says shape {row['shape']!r}, its category is {row['category']!r}"
        )
    known = set(trials["category"]) | set(trials["object_response"]) if classes is None else set(classes)
    unknown = found[~found["texture"].isin(known)]
    if not unknown.empty:
        row = unknown.iloc[0]
        raise DataError(f"image {row['imagename']}: texture class {row['texture']!r} is not a known class")
    return found
