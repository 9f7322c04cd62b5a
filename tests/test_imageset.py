from __future__ import annotations

import numpy as np
import pytest
import torch

from freqprobe import ImageSet
from freqprobe.errors import DataError


def make_set(n: int = 5) -> ImageSet:
    images = torch.arange(n * 3 * 4 * 6, dtype=torch.int64).remainder(256).to(torch.uint8).reshape(n, 3, 4, 6)
    return ImageSet(images, [f"img{i}.png" for i in range(n)], origin="test")


def test_len_size_and_indexing() -> None:
    s = make_set()
    assert len(s) == 5 and s.size == (4, 6)
    assert torch.equal(s[2], s.images[2])
    sub = s[1:3]
    assert isinstance(sub, ImageSet) and sub.names == ["img1.png", "img2.png"]
    picked = s[[4, 0]]
    assert picked.names == ["img4.png", "img0.png"] and torch.equal(picked.images[0], s.images[4])


def test_batches_are_float_in_unit_range_with_global_indices() -> None:
    s = make_set()
    batches = list(s.batches(batch_size=2, device="cpu", with_index=True))
    assert [b[0].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    x = torch.cat([b[1] for b in batches])
    assert x.dtype == torch.float32
    torch.testing.assert_close(x * 255, s.images.float())


def test_fingerprint_tracks_pixels_and_names() -> None:
    s = make_set()
    changed = s.images.clone()
    changed[0, 0, 0, 0] += 1
    assert s.fingerprint() == make_set().fingerprint()
    assert s.fingerprint() != ImageSet(changed, s.names).fingerprint()
    assert s.fingerprint() != ImageSet(s.images, [n.upper() for n in s.names]).fingerprint()


def test_rejects_wrong_layout() -> None:
    with pytest.raises(ValueError, match=r"uint8 tensor \(N, 3, H, W\)"):
        ImageSet(torch.zeros(2, 4, 4, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="2 names for 1 images"):
        ImageSet(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), ["a", "b"])


@pytest.mark.parametrize("mask", [np.array, torch.tensor, list])
def test_a_boolean_mask_picks_the_images_where_it_is_true(mask) -> None:
    s = make_set()
    picked = s[mask([True, False, False, True, True])]
    assert picked.names == ["img0.png", "img3.png", "img4.png"]
    assert torch.equal(picked.images, s.images[[0, 3, 4]])


@pytest.mark.parametrize("mask", [np.ones(4, dtype=bool), torch.ones(6, dtype=torch.bool), np.ones((5, 1), dtype=bool)])
def test_a_boolean_mask_of_the_wrong_shape_is_an_error(mask) -> None:
    with pytest.raises(DataError, match=r"a boolean mask must have shape \(5,\), got"):
        make_set()[mask]


def test_any_integer_key_slice_or_index_array_works_and_other_keys_are_refused() -> None:
    s = make_set(6)
    assert torch.equal(s[torch.tensor(3)], s.images[3]) and torch.equal(s[np.int64(-1)], s.images[5])
    assert s[::-2].names == ["img5.png", "img3.png", "img1.png"]
    assert len(s[[]]) == 0 and len(s[np.array([], dtype=np.int64)]) == 0
    assert s[np.array([True, False] * 3)].names == ["img0.png", "img2.png", "img4.png"]
    for key in (1.5, "img0.png", ["a"], torch.tensor([0.5])):
        with pytest.raises(DataError, match="index an ImageSet with ints"):
            s[key]


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_batches_refuse_a_batch_size_below_one(batch_size) -> None:
    with pytest.raises(DataError, match="batch_size must be a positive int"):
        next(make_set().batches(batch_size, device="cpu"))
