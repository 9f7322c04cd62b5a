from __future__ import annotations

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
        sides |= {images.names[i][:-4]: side for i in indices.tolist()}
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
    assert abs(len(real_test) - 12) <= 2 and abs(len(fake_test) - 12) <= 2


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
