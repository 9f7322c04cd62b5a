"""The classification tasks of a study, on one leak-free split of the image sets.

One split serves every run of a study (so variants and seeds are compared on the same
test images). Classes are balanced by subsampling each to the smallest, so chance is 1/K.
Tasks: ``binary`` (two sets) or ``kway`` (more), one ``pair:A|B`` per pair of sets when
there are more than two, and the null control (``NULL_CONTROL``, ``real-vs-real``): the real set's training and test
images each cut in two halves and classified against each other, with new halves for every
seed (so its seeds sample the halving too, not one draw that every seed repeats).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import warnings
from collections.abc import Sequence

import torch
from torch import Tensor

from ..data import ImageSet, train_test_split
from ..data.overlap import image_hashes
from ..data.sizing import CROP_HINT
from ..errors import DataError
from ..training import LabelledImages

#: The null control's task and variant name in every table, figure and message (not
#: ``null``: ``pandas.read_csv`` reads that word as missing).
NULL_CONTROL = "real-vs-real"


@dataclasses.dataclass(frozen=True)
class Task:
    """A K-way classification: class names in label order, training and test samples."""

    name: str
    classes: tuple[str, ...]
    train: LabelledImages
    test: LabelledImages
    seed: int | None = None  #: the null control's: the seed whose halves these are


def check_same_size(sets: dict[str, ImageSet]) -> None:
    sizes = {name: s.size for name, s in sets.items()}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name} {h}x{w}" for name, (h, w) in sizes.items())
        raise DataError(f"image sets differ in size ({listed}); {CROP_HINT}")


def build_tasks(
    sets: dict[str, ImageSet],
    test_size: float,
    split_seed: int,
    paired: bool | str,
    pairwise: bool,
    null: bool,
    null_seeds: Sequence[int] = (0,),
) -> list[Task]:
    """Every task of a study; ``sets`` maps class names to sets, the real set first; with
    ``null``, one null control per seed of ``null_seeds``."""
    if len(sets) < 2:
        raise DataError("a study needs at least two image sets (real and one generated)")
    check_same_size(sets)
    names = list(sets)
    splits = dict(zip(names, train_test_split(*sets.values(), test_size=test_size, seed=split_seed, paired=paired)))
    images = [sets[name].images for name in names]

    def labelled(members: list[tuple[int, Tensor]], generator: torch.Generator) -> LabelledImages:
        """``members``: (source position, indices) per class, balanced to the smallest class."""
        smallest = min(len(idx) for _, idx in members)
        dropped = sum(len(idx) - smallest for _, idx in members)
        if dropped:
            warnings.warn(f"classes balanced to {smallest} images each: {dropped} images of larger sets left out")
        source, index, label = [], [], []
        for k, (s, idx) in enumerate(members):
            kept = idx[torch.randperm(len(idx), generator=generator)[:smallest]].sort().values
            source.append(torch.full_like(kept, s))
            index.append(kept)
            label.append(torch.full_like(kept, k))
        return LabelledImages(images, torch.cat(source), torch.cat(index), torch.cat(label))

    def task(name: str, members: list[str]) -> Task:
        positions = [names.index(m) for m in members]
        generator = task_generator(split_seed, name)
        return Task(
            name,
            tuple(members),
            labelled([(p, splits[names[p]][0]) for p in positions], generator),
            labelled([(p, splits[names[p]][1]) for p in positions], generator),
        )

    tasks = [task("binary" if len(names) == 2 else "kway", names)]
    if pairwise and len(names) > 2:
        tasks += [task(f"pair:{a}|{b}", [a, b]) for a, b in itertools.combinations(names, 2)]
    if null:
        tasks += [null_task(names[0], splits[names[0]], split_seed, labelled, seed) for seed in null_seeds]
    return tasks


def leaked_copies(task: Task) -> int:
    """How many test images have an exact copy among the task's training images under
    another label (a copy trained as one class, its twin tested as another)."""
    stacks = task.train.sources
    hashes = image_hashes(stacks)

    def sample_hashes(part: LabelledImages) -> Tensor:
        out = torch.empty(len(part), dtype=torch.long)
        for position, values in enumerate(hashes):
            chosen = part.source == position
            out[chosen] = values[part.index[chosen]]
        return out

    train, test = sample_hashes(task.train), sample_hashes(task.test)
    by_hash: dict[int, list[int]] = {}
    for position, value in enumerate(train.tolist()):
        by_hash.setdefault(value, []).append(position)

    def image(part: LabelledImages, k: int) -> Tensor:
        return stacks[int(part.source[k])][int(part.index[k])]

    leaked = 0
    for k in torch.isin(test, train).nonzero().flatten().tolist():
        label = int(task.test.label[k])
        leaked += any(
            int(task.train.label[j]) != label and torch.equal(image(task.train, j), image(task.test, k))
            for j in by_hash[int(test[k])]
        )
    return leaked


def task_generator(split_seed: int, task_name: str) -> torch.Generator:
    """Each task draws its own random choices, so one task never depends on another."""
    digest = hashlib.blake2b(f"{split_seed}:{task_name}".encode(), digest_size=8).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1)


def null_task(real: str, split: tuple[Tensor, Tensor], split_seed: int, labelled, seed: int = 0) -> Task:
    """The real set against itself: each side of the split cut in two random halves, drawn
    from ``split_seed`` and ``seed``."""
    generator = task_generator(split_seed, f"{NULL_CONTROL}:{seed}")
    halves = []
    for side in split:
        if len(side) < 4:
            raise DataError(f"{real}: too few images for the null control ({len(side)} on one side of the split)")
        shuffled = side[torch.randperm(len(side), generator=generator)]
        halves.append((shuffled[: len(side) // 2].sort().values, shuffled[len(side) // 2 :].sort().values))
    (train_a, train_b), (test_a, test_b) = halves
    return Task(
        NULL_CONTROL,
        (f"{real}/A", f"{real}/B"),
        labelled([(0, train_a), (0, train_b)], generator),
        labelled([(0, test_a), (0, test_b)], generator),
        seed,
    )


def samples_digest(task: Task) -> str:
    """A hash of exactly which images (set, index, label) a task trains and tests on."""
    digest = hashlib.sha256()
    for part in (task.train, task.test):
        for tensor in (part.source, part.index, part.label):
            digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:16]
