"""Deterministic, stratified, pair-aware train/test splits of image sets.

A group is one image (keyed by set and name), or with pairing every image in every set
whose name without extension is the same (``cat/001.png`` and ``cat/001.jpg`` in two sets):
a shared name always lands on the same side. Groups of one *kind* (the same number of
images in each set: one in set 0 and one in set 1, say, or one in set 1 alone) are
interchangeable for the quotas ``round(test_size * len(set))``. So the split first decides
how many groups of each kind go to the test side: ``floor(test_size * count)``, then one
more for the kinds with the largest remainders while their sets stay within quota, then
single trades (one group more of a kind, one fewer of another) while they bring a set up
to 2 images on each side or the sets nearer their quotas. Each kind then sends its
best-scored groups, scored by a hash of ``(seed, group key)`` (BLAKE2b, so the same in every
Python process). Nothing depends on the order of files, and adding files moves few others.

Without pairing, or with fully shared names, every set gets its exact quota. Partly shared
names can make a quota unreachable (three sets that share names pairwise need an even total
on the test side); a set then misses it by an image or so (never more than one in the
overlap patterns the tests try). A set left with fewer than 2 images on a side is an error.
"""

from __future__ import annotations

import hashlib
import math
import numbers
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
            side in every set; ``False`` splits sets independently; ``"auto"`` pairs the sets
            named by files when at least half the names of one of them occur in another,
            while sets named by bare indices (all names digit strings, as arrays and ``.npz``
            files are) split on their own.

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
    for i, images in enumerate(sets):
        if not isinstance(images, ImageSet):
            raise DataError(
                f"train_test_split takes ImageSets (fp.load_images makes one from a folder, file or array); "
                f"set {i} is a {type(images).__name__}"
            )
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise DataError(f"test_size must lie in (0, 1), got {test_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise DataError(f"the split's seed must be an int, got {seed!r}")
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

    pair = _paired_sets(sets) if paired == "auto" else [bool(paired)] * len(sets)
    groups: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, images in enumerate(sets):
        for position, name in enumerate(images.names):
            groups[posixpath.splitext(name)[0] if pair[i] else f"\0{i}/{name}"].append((i, position))

    in_test = [np.zeros(len(images), dtype=bool) for images in sets]
    for key in _test_groups(groups, quotas, [len(images) for images in sets], test_size, seed):
        for i, position in groups[key]:
            in_test[i][position] = True
    for i, (images, test) in enumerate(zip(sets, in_test)):
        n_test = int(test.sum())
        if min(n_test, len(images) - n_test) < 2:
            raise DataError(
                f"set {i} ({images.origin}): names shared with other sets leave {len(images) - n_test} train and "
                f"{n_test} test images; need at least 2 on each side (try another test_size, or paired=False)"
            )
    return [(_indices(~test), _indices(test)) for test in in_test]


_Kind = tuple[tuple[int, int], ...]  # (set, images in that set) of a group, by set


def _test_groups(
    groups: dict[str, list[tuple[int, int]]], quotas: list[int], sizes: list[int], test_size: float, seed: int
) -> list[str]:
    """The keys of the groups that go to the test side (see the module docstring)."""
    kinds: dict[_Kind, list[str]] = defaultdict(list)
    for key in sorted(groups, key=lambda key: (_score(seed, key), key)):
        kinds[tuple(sorted(Counter(i for i, _ in groups[key]).items()))].append(key)
    counts = {kind: math.floor(test_size * len(keys)) for kind, keys in kinds.items()}
    room = list(quotas)
    for kind, n in counts.items():
        room = _take(room, kind, n)
    by_remainder = sorted(kinds, key=lambda kind: (counts[kind] - test_size * len(kinds[kind]), kind))
    for kind in by_remainder:  # rounding: one more group of a kind while its sets have room
        if counts[kind] < len(kinds[kind]) and min(_take(room, kind, 1)) >= 0:
            counts[kind] += 1
            room = _take(room, kind, 1)

    def unhappy(room: list[int]) -> tuple[set[int], set[int]]:
        """The sets with fewer than 2 images on a side, and the sets off their quotas."""
        sides = [min(quota - left, size - quota + left) for quota, left, size in zip(quotas, room, sizes)]
        return {i for i, side in enumerate(sides) if side < 2}, {i for i, left in enumerate(room) if left}

    def cost(room: list[int]) -> tuple[int, int]:
        """Lower is better: first the sets with fewer than 2 on a side, then the images off the quotas."""
        return len(unhappy(room)[0]), sum(map(abs, room))

    members = {kind: {i for i, _ in kind} for kind in kinds} | {None: set()}
    moves = [(up, None) for up in by_remainder] + [(None, down) for down in by_remainder]
    moves += [(up, down) for up in by_remainder for down in by_remainder if up != down]
    improved = True
    while improved:  # then one group more of a kind, one fewer of another, or both, while that helps
        improved = False
        trouble = set.union(*unhappy(room))  # a move that touches only sets without trouble cannot help
        for up, down in moves:
            if not (members[up] | members[down]) & trouble:
                continue
            if (up is None or counts[up] < len(kinds[up])) and (down is None or counts[down] > 0):
                moved = _take(_take(room, up, 1), down, -1)
                if cost(moved) < cost(room):
                    room, improved = moved, True
                    if up is not None:
                        counts[up] += 1
                    if down is not None:
                        counts[down] -= 1
                    break
    return [key for kind, keys in kinds.items() for key in keys[: counts[kind]]]


def _take(room: list[int], kind: _Kind | None, n: int) -> list[int]:
    """Each set's room left under its quota once ``n`` more groups of ``kind`` are taken."""
    per_group = dict(kind or ())
    return [left - n * per_group.get(i, 0) for i, left in enumerate(room)]


def _indices(mask: np.ndarray) -> Tensor:
    return torch.as_tensor(np.flatnonzero(mask), dtype=torch.long)


def _score(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}\0{key}".encode(), digest_size=8).digest()


def _paired_sets(sets: tuple[ImageSet, ...]) -> list[bool]:
    """The ``paired="auto"`` rule, per set: the sets named by files (not bare indices) pair
    when at least half the names of one of them occur in another."""
    named = [not all(name.isdigit() for name in images.names) for images in sets]
    stems = [{posixpath.splitext(name)[0] for name in images.names} for images, n in zip(sets, named) if n]
    counts = Counter(stem for names in stems for stem in names)
    shared = len(stems) >= 2 and any(sum(counts[stem] > 1 for stem in names) >= len(names) / 2 for names in stems)
    return named if shared else [False] * len(sets)
