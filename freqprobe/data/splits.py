"""Deterministic, stratified, pair-aware train/test splits of image sets.

Every group of images gets a score from a hash of ``(seed, group key)`` (BLAKE2b, so the
same in every Python process), and groups are taken into the test side in score order
while no set goes over its quota ``round(test_size * len(set))``. A group's side depends on
its own key and the seed, not on the order of files, so adding files moves few others.

A group is one image (keyed by set and name), or with pairing every image in every set
whose name without extension is the same (``cat/001.png`` and ``cat/001.jpg`` in two sets):
a shared name always lands on the same side. With fully shared names every set gets its
exact quota; with partly shared names a set can end a few images short of it.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
from collections import Counter, defaultdict

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError
from .imageset import ImageSet


def train_test_split(
    *sets: ImageSet,
    test_size: float = 0.2,
    seed: int = 0,
    paired: bool | str = "auto",
) -> list[tuple[Tensor, Tensor]]:
    """Split each set into sorted ``(train_indices, test_indices)`` int64 tensors.

    Args:
        sets: the image sets (e.g. real, fake_a, fake_b), each split with the same fraction.
        test_size: fraction of each set in the test side, in (0, 1), rounded per set.
        seed: the split's seed.
        paired: ``True`` keeps images with the same name (without extension) on the same
            side in every set; ``False`` splits sets independently; ``"auto"`` pairs when
            no set is named by bare indices (all names digit strings, as arrays and
            ``.npz`` files are) and at least half the names of some set occur in another.

    Returns:
        One ``(train_indices, test_indices)`` pair per set.

    Raises:
        DataError: ``test_size`` outside (0, 1), or a set with fewer than 2 images on a side.

    Example:
        >>> real = ImageSet(torch.zeros(10, 3, 4, 4, dtype=torch.uint8))
        >>> [(train, test)] = train_test_split(real, test_size=0.3)
        >>> len(train), len(test)
        (7, 3)
    """
    if not sets:
        raise DataError("train_test_split needs at least one image set")
    if not 0 < test_size < 1:
        raise DataError(f"test_size must lie in (0, 1), got {test_size}")
    if paired not in ("auto", True, False):
        raise DataError(f"paired must be 'auto', True or False, got {paired!r}")
    quotas = []
    for i, images in enumerate(sets):
        n_test = math.floor(test_size * len(images) + 0.5)
        if min(n_test, len(images) - n_test) < 2:
            raise DataError(
                f"set {i} ({images.origin}) has {len(images)} images: test_size={test_size} gives "
                f"{len(images) - n_test} train and {n_test} test; need at least 2 on each side"
            )
        quotas.append(n_test)

    pair = _names_are_paired(sets) if paired == "auto" else paired
    groups: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, images in enumerate(sets):
        for position, name in enumerate(images.names):
            groups[posixpath.splitext(name)[0] if pair else f"{i}/{name}"].append((i, position))

    in_test = [np.zeros(len(images), dtype=bool) for images in sets]
    taken = [0] * len(sets)
    for key in sorted(groups, key=lambda key: (_score(seed, key), key)):
        members = groups[key]
        per_set = Counter(i for i, _ in members)
        if all(taken[i] + count <= quotas[i] for i, count in per_set.items()):
            for i, position in members:
                in_test[i][position] = True
            for i, count in per_set.items():
                taken[i] += count
            if taken == quotas:
                break
    return [(_indices(~test), _indices(test)) for test in in_test]


def _indices(mask: np.ndarray) -> Tensor:
    return torch.as_tensor(np.flatnonzero(mask), dtype=torch.long)


def _score(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}\0{key}".encode(), digest_size=8).digest()


def _names_are_paired(sets: tuple[ImageSet, ...]) -> bool:
    """The ``paired="auto"`` rule: file names (not bare indices), half of some set shared."""
    if len(sets) < 2 or any(all(name.isdigit() for name in images.names) for images in sets):
        return False
    stems = [{posixpath.splitext(name)[0] for name in images.names} for images in sets]
    counts = Counter(stem for names in stems for stem in names)
    return any(sum(counts[stem] > 1 for stem in names) >= len(names) / 2 for names in stems)
