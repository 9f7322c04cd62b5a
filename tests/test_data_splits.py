from __future__ import annotations

import math

import pytest
import torch

from freqprobe import ImageSet, train_test_split
from freqprobe.errors import DataError


def image_set(names: list[str], origin: str = "test") -> ImageSet:
    return ImageSet(torch.zeros(len(names), 3, 2, 2, dtype=torch.uint8), names, origin)


def indexed(n: int) -> ImageSet:
    return ImageSet(torch.zeros(n, 3, 2, 2, dtype=torch.uint8))


def as_lists(split: list[tuple[torch.Tensor, torch.Tensor]]) -> list[tuple[list[int], list[int]]]:
    return [(train.tolist(), test.tolist()) for train, test in split]


def side_by_stem(images: ImageSet, split: tuple[torch.Tensor, torch.Tensor]) -> dict[str, str]:
    sides = {}
    for side, indices in zip(("train", "test"), split):
        sides |= {images.names[i].rsplit(".", 1)[0]: side for i in indices.tolist()}
    return sides


def test_same_seed_same_split_other_seed_other_split() -> None:
    sets = (indexed(50), indexed(30))
    first = as_lists(train_test_split(*sets, seed=7))
    assert first == as_lists(train_test_split(*sets, seed=7))
    assert first != as_lists(train_test_split(*sets, seed=8))


def test_sides_are_sorted_disjoint_and_complete_int64() -> None:
    for train, test in train_test_split(indexed(40), indexed(13), test_size=0.3):
        assert train.dtype == test.dtype == torch.long
        both = train.tolist() + test.tolist()
        assert train.tolist() == sorted(train.tolist()) and test.tolist() == sorted(test.tolist())
        assert sorted(both) == list(range(len(both))) and len(set(both)) == len(both)


def test_every_set_is_split_with_the_same_rounded_fraction() -> None:
    split = train_test_split(indexed(50), indexed(100), indexed(30), indexed(10), test_size=0.25)
    assert [len(test) for _, test in split] == [13, 25, 8, 3]  # round half up: 12.5 -> 13, 7.5 -> 8, 2.5 -> 3


def test_shared_names_fall_on_the_same_side_in_every_set() -> None:
    real = image_set([f"cat/{i:03d}.png" for i in range(40)])
    fake = image_set([f"cat/{i:03d}.jpg" for i in range(40)][::-1])  # other order, other extension
    real_split, fake_split = train_test_split(real, fake, test_size=0.25)
    assert side_by_stem(real, real_split) == side_by_stem(fake, fake_split)
    assert len(real_split[1]) == len(fake_split[1]) == 10


def test_partly_shared_names_are_paired_and_keep_close_to_the_fraction() -> None:
    real = image_set([f"{i:03d}.png" for i in range(60)])
    fake = image_set([f"{i:03d}.png" for i in range(30)] + [f"extra{i}.png" for i in range(30)])
    (_, real_test), (_, fake_test) = train_test_split(real, fake, test_size=0.2, seed=1)
    real_test_names = {real.names[i] for i in real_test.tolist()}
    shared = {name for name in fake.names if name in set(real.names)}
    fake_test_names = {fake.names[i] for i in fake_test.tolist()}
    assert real_test_names & shared == fake_test_names & shared
    assert len(real_test) == len(fake_test) == 12


def names(*ranges: tuple[int, int], prefix: str = "") -> list[str]:
    return [f"{prefix}{i:03d}.png" for start, stop in ranges for i in range(start, stop)]


OVERLAPS = {  # name lists of the sets; a name in several sets is a pair
    "all of a in b": [names((0, 10)), names((0, 40))],
    "all of b in a": [names((0, 40)), names((0, 10))],
    "nested": [names((0, 10)), names((0, 25)), names((0, 60))],
    "chain": [names((0, 20)), names((10, 40)), names((30, 60))],
    "pairwise only": [names((0, 5)) + names((5, 10)), names((0, 5)) + names((10, 15)), names((5, 15))],
    "two small in one big": [names((0, 10)), names((10, 20)), names((0, 50))],
    "half, with extras": [names((0, 60)), names((0, 30)) + names((0, 30), prefix="x")],
    "same stem twice in a set": [names((0, 10)) + [f"{i:03d}.jpg" for i in range(5)], names((0, 30))],
}


@pytest.mark.parametrize("test_size", [0.2, 0.3])
@pytest.mark.parametrize("pattern", OVERLAPS)
def test_every_set_gets_its_quota_within_one_and_pairs_stay_together_for_every_seed(pattern, test_size) -> None:
    sets = [image_set(listed) for listed in OVERLAPS[pattern]]
    quotas = [math.floor(test_size * len(images) + 0.5) for images in sets]
    for seed in range(300):
        split = train_test_split(*sets, test_size=test_size, seed=seed, paired=True)
        sides: dict[str, str] = {}
        for images, quota, (train, test) in zip(sets, quotas, split):
            assert abs(len(test) - quota) <= 1 and min(len(train), len(test)) >= 2, (seed, quota, len(test))
            for stem, side in side_by_stem(images, (train, test)).items():
                assert sides.setdefault(stem, side) == side, (seed, stem)


def test_a_set_whose_names_all_occur_in_a_bigger_set_gets_its_exact_quota() -> None:
    small, big = image_set(names((0, 10))), image_set(names((0, 10)) + names((0, 30), prefix="own"))
    for seed in range(300):
        (_, small_test), (_, big_test) = train_test_split(small, big, test_size=0.2, seed=seed)
        assert (len(small_test), len(big_test)) == (2, 8)


def test_shared_names_that_leave_a_set_one_sided_are_an_error() -> None:
    one_stem = image_set(["x.png", "x.jpg", "x.webp", "x.bmp"], origin="dups")  # one group: all test or all train
    message = r"set 0 \(dups\): names shared with other sets leave (4 train and 0|0 train and 4) test images; need"
    with pytest.raises(DataError, match=message):
        train_test_split(one_stem, image_set(["x.png", *names((0, 9))]), test_size=0.5)


def test_auto_does_not_pair_index_names_but_true_does() -> None:
    a, b = indexed(100), indexed(100)
    unpaired = as_lists(train_test_split(a, b))
    assert unpaired[0][1] != unpaired[1][1]
    paired = as_lists(train_test_split(a, b, paired=True))
    assert paired[0] == paired[1]


def test_auto_pairs_file_names_and_false_never_does() -> None:
    names = [f"{i}.png" for i in range(100)]
    auto = as_lists(train_test_split(image_set(names), image_set(names)))
    assert auto[0] == auto[1]
    unpaired = as_lists(train_test_split(image_set(names), image_set(names), paired=False))
    assert unpaired[0] != unpaired[1]


def test_an_index_named_set_beside_paired_folders_keeps_the_folders_paired() -> None:
    names = [f"img{i}.png" for i in range(100)]
    real, fake, samples = image_set(names), image_set(names), indexed(100)
    split = train_test_split(real, fake, samples, seed=3)
    assert as_lists(split)[0] == as_lists(split)[1]  # the folders stay paired
    assert as_lists(split)[2] == as_lists(train_test_split(real, fake, samples, seed=3, paired=False))[2]


def test_non_image_sets_are_refused_in_one_line() -> None:
    with pytest.raises(DataError, match="train_test_split takes ImageSets .* set 1 is a list"):
        train_test_split(indexed(20), [1, 2, 3])


def test_auto_does_not_pair_sets_that_share_few_names() -> None:
    real = image_set([f"real{i}.png" for i in range(90)] + [f"{i}.png" for i in range(10)])
    fake = image_set([f"fake{i}.png" for i in range(90)] + [f"{i}.png" for i in range(10)])
    auto = as_lists(train_test_split(real, fake, seed=2))
    assert auto == as_lists(train_test_split(real, fake, seed=2, paired=False))
    assert auto != as_lists(train_test_split(real, fake, seed=2, paired=True))


def test_a_set_too_small_to_split_is_an_error_with_the_numbers() -> None:
    message = r"set 1 \(tiny\) has 6 images: test_size=0.2 gives 5 train and 1 test; need at least 2 on each side"
    with pytest.raises(DataError, match=message):
        train_test_split(indexed(50), image_set([str(i) for i in range(6)], origin="tiny"))


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1])
def test_test_size_outside_the_open_unit_interval_is_an_error(test_size) -> None:
    with pytest.raises(DataError, match="test_size must lie in"):
        train_test_split(indexed(50), test_size=test_size)


def test_no_sets_or_a_bad_paired_value_is_an_error() -> None:
    with pytest.raises(DataError, match="at least one image set"):
        train_test_split()
    with pytest.raises(DataError, match="paired must be"):
        train_test_split(indexed(10), paired="yes")
