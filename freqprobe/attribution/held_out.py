"""Attribute on images the model was not trained on, when a study's own sets come back.

An ``fp.ablate`` run stores the fingerprints of its sets and a digest of exactly which
images it trained and tested on. When the sets given to ``attribute`` are the study's
(same fingerprints), the study's split is rebuilt with ``ablate``'s defaults and, if its
digest matches, only the study's test images are used. A K-way study's split needs all
of its sets: the real and fake set attributed, and its other generated sets (``others``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import Tensor

from ..ablation import AblationResult
from ..ablation.tasks import NULL_CONTROL, build_tasks, samples_digest
from ..data import ImageSet
from ..errors import FreqprobeError

#: ``fp.ablate``'s split defaults, the only split that can be rebuilt without its arguments.
DEFAULT_TEST_SIZE = 0.2
DEFAULT_SPLIT_SEED = 0


def study_run(result: AblationResult, variant: str, seed: int | None, recipe: str | None) -> dict | None:
    """The table row of the run ``AblationResult.model`` loads for these arguments, or ``None``.

    As there: ``recipe`` and ``seed`` default to the study's first, the task to the first
    one trained on ``variant``.
    """
    table = result.table
    trained = table[(table["train_variant"] == variant) & (table["task"] != NULL_CONTROL)]  # as model(): never the null control
    trained = trained[trained["recipe"] == (recipe or str(result.table["recipe"].iloc[0]))]
    if trained.empty:
        return None
    task = trained["task"].iloc[0]
    seed = int(trained["seed"].iloc[0]) if seed is None else int(seed)
    rows = trained[(trained["task"] == task) & (trained["seed"] == seed)]
    return None if rows.empty else rows.iloc[0].to_dict()


def _spec(result: AblationResult, run: dict | None) -> dict | None:
    record = result.store.record(str(run["run"])) if run is not None and result.store is not None else None
    return None if record is None else record["spec"]


def study_classes(result: AblationResult, run: dict | None, real: ImageSet, fake: ImageSet) -> tuple[int, int] | None:
    """The logit indices of ``real`` and ``fake`` in the study's model when both are among
    its sets (a K-way model's outputs follow the sets' order), else ``None``."""
    spec = _spec(result, run)
    if spec is None or len(spec["classes"]) != len(spec["data"]):
        return None
    data = list(spec["data"])
    given = (real.fingerprint(), fake.fingerprint())
    return (data.index(given[0]), data.index(given[1])) if all(f in data for f in given) else None


def study_test_images(
    result: AblationResult, run: dict | None, real: ImageSet, fake: ImageSet, others: Sequence[ImageSet] = ()
) -> tuple[tuple[Tensor, Tensor] | None, str]:
    """``((real indices, fake indices), note)`` of the test images of the study's ``run``
    (a ``study_run`` row), or ``(None, note)``. ``others``: a K-way study's other sets.

    The note says which images are used and why (for the settings and the CLI).

    Raises:
        FreqprobeError: the sets are the study's, swapped (real given as fake and fake as real).
    """
    spec = _spec(result, run)
    if spec is None:
        return None, "all images (the study's records are not available)"
    given = (real.fingerprint(), fake.fingerprint())
    study_real, study_fakes = spec["data"][0], tuple(spec["data"][1:])
    if len(study_fakes) > 1 and given[0] != given[1] and all(f in spec["data"] for f in given):  # K-way, own classes
        return _k_way_test_images(spec, real, fake, others)
    if given[0] in study_fakes and given[1] == study_real:
        raise FreqprobeError(
            "the real and fake sets are the study's fake and real sets, swapped (the model's classes would be "
            "reversed): give the study's real set as real (--real) and its fake set as fake (--fake)"
        )
    if tuple(spec["data"]) != given:
        reversed_sets = (("real", "fake", given[0] in study_fakes), ("fake", "real", given[1] == study_real))
        for name, other, reversed_class in reversed_sets:
            if reversed_class:
                warnings.warn(
                    f"the {name} set is the study's {other} set: its images are attributed as {name}, "
                    "the reverse of the class the model learnt for them",
                    stacklevel=4,
                )
        return None, "all images (not the study's sets, so none was trained on, unless they overlap)"
    return _rebuilt_test_images(spec, {"real": real, "fake": fake}, (0, 1), "the study's")


def _k_way_test_images(
    spec: dict, real: ImageSet, fake: ImageSet, others: Sequence[ImageSet]
) -> tuple[tuple[Tensor, Tensor] | None, str]:
    """The test images of a K-way study's ``real`` and ``fake`` class, rebuilt from all its sets."""
    data = list(spec["data"])
    by_print = {s.fingerprint(): s for s in (real, fake, *others)}
    missing = [k for k, f in enumerate(data) if f not in by_print]
    if missing:
        warnings.warn(
            f"these are sets of a study of {len(data)} sets, whose split needs all of them ({len(missing)} not given: "
            "pass the study's other generated sets as others= / --other-fake): attributing on all images, some of "
            "which the model was trained on",
            stacklevel=4,
        )
        return None, "all images, including the study's training images (a K-way split needs all its sets)"
    named = {f"set{k}": by_print[f] for k, f in enumerate(data)}
    positions = (data.index(real.fingerprint()), data.index(fake.fingerprint()))
    return _rebuilt_test_images(spec, named, positions, "the K-way study's")


def _rebuilt_test_images(
    spec: dict, sets: dict[str, ImageSet], positions: tuple[int, int], whose: str
) -> tuple[tuple[Tensor, Tensor] | None, str]:
    """The test images of the sets at ``positions`` in the study's split, rebuilt from all of
    its ``sets`` with ablate's default split; ``(None, note)`` when that is not the study's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # class balancing was reported when the study ran
        rebuilt = build_tasks(sets, DEFAULT_TEST_SIZE, DEFAULT_SPLIT_SEED, "auto", False, False)
    if samples_digest(rebuilt[0]) != spec["samples"]:
        warnings.warn(
            "these are the study's sets, but its split (not ablate's default) cannot be rebuilt: "
            "attributing on all images, some of which the model was trained on",
            stacklevel=5,
        )
        return None, "all images, including the study's training images (its split could not be rebuilt)"
    test = rebuilt[0].test
    real, fake = (test.index[test.source == position].sort().values for position in positions)
    return (real, fake), f"{whose} held-out test images ({len(real)} real, {len(fake)} fake)"


def subsample(n_total: int, n_wanted: int, generator: torch.Generator) -> Tensor:
    """``min(n_total, n_wanted)`` sorted positions drawn without replacement."""
    if n_wanted >= n_total:
        return torch.arange(n_total)
    return torch.randperm(n_total, generator=generator)[:n_wanted].sort().values
