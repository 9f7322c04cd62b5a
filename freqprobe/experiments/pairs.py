"""Pairwise distinguishability read off one ``fp.ablate`` study of K sets.

``compare`` and ``drift`` do not train anything themselves: they run ``fp.ablate`` on all
their sets with its pairwise tasks (one binary task per unordered pair), so the runs land
in ablate's run store and are reused by any later study of the same sets in the same
folder, and read the pairs back from its summary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TypedDict

try:
    from typing import Unpack  # typing ``**options`` with a TypedDict (Python 3.11)
except ImportError:  # Python 3.10: typing_extensions, a dependency of torch
    from typing_extensions import Unpack

import pandas as pd
import torch

from ..ablation import AblationResult, ablate
from ..ablation.study import resolve_seeds
from ..ablation.tasks import NULL_CONTROL
from ..data import ImageSet, load_images
from ..data.naming import default_set_names
from ..errors import FreqprobeError
from ..execution import Executor
from ..execution.ray_session import check_executor
from ..io import check_output_folder
from ..runfolder import claim_folder
from ..training import Recipe

#: The null control's label in the tables here: ablate's own name for it.
CONTROL = NULL_CONTROL
#: Columns of a pair row; ``accuracy`` is the mean over seeds, the interval ablate's summary gives.
PAIR_COLUMNS = [
    "set_a", "set_b", "variant", "accuracy", "ci_low", "ci_high",
    "accuracy_std", "n_seeds", "n_test", "p_value_max", "chance",
]  # fmt: skip

SetSource = ImageSet | str | os.PathLike


class GridOptions(TypedDict, total=False):
    """The options of ``fp.ablate`` that ``compare`` and ``drift`` pass on (same meaning, same
    defaults: ``ablate`` documents them)."""

    model: str
    recipe: Recipe | str
    device: str | torch.device
    test_size: float
    split_seed: int
    paired: bool | str
    null: bool
    progress: bool
    executor: str | Executor
    address: str | None


def pairwise_study(
    sets: Sequence[SetSource] | Mapping[str, SetSource],
    variants: str | Sequence[str],
    seeds: int | Sequence[int],
    names: Sequence[str] | None,
    size: int | tuple[int, int] | None,
    out: str | os.PathLike | None,
    options: GridOptions,
) -> tuple[AblationResult, list[str]]:
    """``fp.ablate`` on every set (the first as its real set) with all pairwise tasks, and
    the set names. What can be checked without the images is checked before any set is
    loaded: ``out`` (writable, not another analysis's folder), the options, seeds,
    executor, and the number of sets and names."""
    if out is not None:
        check_output_folder(out, "out")
        claim_folder(out, "ablate")
    unknown = sorted(set(options) - GridOptions.__optional_keys__)
    if unknown:
        raise FreqprobeError(f"unknown option {unknown[0]!r}; options: {', '.join(GridOptions.__annotations__)}")
    seeds = resolve_seeds(seeds)
    executor = options.get("executor", "local")
    if isinstance(executor, str):
        check_executor(executor)
    loaded = named_sets(sets, names, size)
    first, *rest = loaded.values()
    study = ablate(first, rest, variants, seeds=seeds, names=list(loaded), out=out, pairwise=True, **options)
    return study, list(loaded)


def named_sets(
    sets: Sequence[SetSource] | Mapping[str, SetSource],
    names: Sequence[str] | None = None,
    size: int | tuple[int, int] | None = None,
) -> dict[str, ImageSet]:
    """Sets by name: a mapping keeps its names; a sequence is named as ``fp.ablate`` names
    its sets (``real`` first), so the runs of an earlier ablate study of the same sets match.
    The count of sets and given names are checked before any set is loaded."""
    if isinstance(sets, Mapping):
        if names is not None:
            raise FreqprobeError("give names either as the keys of a dict of sets or as names=, not both")
        names, sets = [str(n) for n in sets], list(sets.values())
    sets = [sets] if isinstance(sets, (str, os.PathLike, ImageSet)) else list(sets)
    if len(sets) < 2:
        raise FreqprobeError(f"give at least two sets to compare, got {len(sets)}")
    if names is not None and (len(names) != len(sets) or len(set(map(str, names))) != len(names)):
        raise FreqprobeError(f"names must be {len(sets)} distinct names, one per set, got {list(names)}")
    loaded = [_loaded(s, size) for s in sets]
    names = default_set_names(loaded[0], loaded[1:]) if names is None else [str(n) for n in names]
    return dict(zip(names, loaded))


def _loaded(source: SetSource, size: int | tuple[int, int] | None) -> ImageSet:
    """A set as it is, or loaded (an ``ImageSet`` cropped to ``size`` keeps its names and origin)."""
    if isinstance(source, ImageSet):
        return source if size is None else ImageSet(load_images(source.images, size=size).images, source.names, source.origin)
    return load_images(source, size=size)


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
