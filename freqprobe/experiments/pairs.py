"""Pairwise distinguishability read off one ``fp.ablate`` study of K sets.

``compare`` and ``drift`` do not train anything themselves: they run ``fp.ablate`` on all
their sets with its pairwise tasks (one binary task per unordered pair), so the runs land
in ablate's run store and are reused by any later study of the same sets in the same
folder, and read the pairs back from its summary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import pandas as pd

from ..ablation import AblationResult, ablate
from ..ablation.tasks import NULL_CONTROL
from ..data import ImageSet, load_images
from ..data.naming import default_set_names
from ..errors import FreqprobeError

#: The null control's label in the tables here: ablate's own name for it.
CONTROL = NULL_CONTROL
#: Columns of a pair row; ``accuracy`` is the mean over seeds, the interval ablate's summary gives.
PAIR_COLUMNS = [
    "set_a", "set_b", "variant", "accuracy", "ci_low", "ci_high",
    "accuracy_std", "n_seeds", "n_test", "p_value_max", "chance",
]  # fmt: skip

SetSource = ImageSet | str | os.PathLike


def named_sets(
    sets: Sequence[SetSource] | Mapping[str, SetSource],
    names: Sequence[str] | None = None,
    size: int | tuple[int, int] | None = None,
) -> dict[str, ImageSet]:
    """Sets by name: a mapping keeps its names; a sequence is named as ``fp.ablate`` names
    its sets (``real`` first), so the runs of an earlier ablate study of the same sets match."""
    if isinstance(sets, Mapping):
        if names is not None:
            raise FreqprobeError("give names either as the keys of a dict of sets or as names=, not both")
        names, sets = [str(n) for n in sets], list(sets.values())
    loaded = [_loaded(s, size) for s in sets]
    if len(loaded) < 2:
        raise FreqprobeError(f"give at least two sets to compare, got {len(loaded)}")
    names = default_set_names(loaded[0], loaded[1:]) if names is None else [str(n) for n in names]
    if len(names) != len(loaded) or len(set(names)) != len(names):
        raise FreqprobeError(f"names must be {len(loaded)} distinct names, one per set, got {names}")
    return dict(zip(names, loaded))


def _loaded(source: SetSource, size: int | tuple[int, int] | None) -> ImageSet:
    """A set as it is, or loaded (an ``ImageSet`` cropped to ``size`` keeps its names and origin)."""
    if isinstance(source, ImageSet):
        return source if size is None else ImageSet(load_images(source.images, size=size).images, source.names, source.origin)
    return load_images(source, size=size)


def pairwise_study(sets: dict[str, ImageSet], variants, seeds, out, options: dict) -> AblationResult:
    """``fp.ablate`` on every set (the first as its real set) with all pairwise tasks."""
    first, *rest = sets.values()
    return ablate(first, rest, variants, seeds=seeds, names=list(sets), out=out, pairwise=True, **options)


def pair_table(study: AblationResult, names: Sequence[str]) -> pd.DataFrame:
    """One row per unordered pair and variant (``set_a`` before ``set_b`` in ``names``
    order), and the null control as the first set against itself, variant ``real-vs-real``."""
    rows = []
    for row in study.summary.to_dict("records"):
        task, variant = row["task"], row["variant"]
        if task.startswith("pair:"):
            pair = task.removeprefix("pair:").split("|", 1)
        elif task == "binary":
            pair = list(names)
        elif task == CONTROL:
            pair, variant = [names[0], names[0]], CONTROL
        else:
            continue  # the K-way task
        set_a, set_b = sorted(pair, key=list(names).index)
        rows.append({**{k: row[k] for k in PAIR_COLUMNS if k in row}, "set_a": set_a, "set_b": set_b, "variant": variant})
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)
