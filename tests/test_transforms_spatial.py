"""Spatial transforms: patchshuffle, grayscale, blur, noise, jpeg."""

from __future__ import annotations

import io

import numpy as np
import pytest
import scipy.ndimage
import torch
from PIL import Image

import freqprobe as fp
from freqprobe.errors import SpecError
from freqprobe.transforms.keyed_random import keyed_permutation
from freqprobe.transforms.spatial import luminance


def smooth_images(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``(n, size, size, 3)`` uint8: a colour ramp, a disk and a box, plus mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    images = []
    for _ in range(n):
        cy, cx, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.3)
        img = 60 + 120 * xx[..., None] * rng.uniform(0.2, 1.0, 3)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = rng.uniform(0, 255, 3)
        img[: size // 4, size // 2 :] = rng.uniform(0, 255, 3)
        img = img + rng.normal(0, 4, img.shape)
        images.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return np.stack(images)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255


def patches(x: torch.Tensor, k: int) -> torch.Tensor:
    """``(N, K*K, C*ph*pw)``: the patches of each image, each flattened."""
    n, c, h, w = x.shape
    return x.reshape(n, c, k, h // k, k, w // k).permute(0, 2, 4, 1, 3, 5).reshape(n, k * k, -1)


@pytest.mark.parametrize(
    "spec",
    ["patchshuffle:4", "patchshuffle:8,seed=3", "grayscale", "blur:1.5", "noise:0.05", "noise:0.1,seed=7", "jpeg:75"],
)
def test_canonical_specs_round_trip(spec: str) -> None:
    assert str(fp.transform(spec)) == spec


@pytest.mark.parametrize("spec", ["patchshuffle:4", "grayscale", "blur:1", "noise:0.1", "jpeg:50"])
def test_output_keeps_shape_and_dtype(spec: str) -> None:
    x = to_tensor(smooth_images(2))
    out = fp.transform(spec)(x)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device


@pytest.mark.parametrize("spec", ["patchshuffle:1", "blur:0", "blur:-1", "noise:0", "jpeg:0", "jpeg:101"])
def test_out_of_range_arguments_are_spec_errors(spec: str) -> None:
    with pytest.raises(SpecError):
        fp.transform(spec)


# -- patchshuffle ----------------------------------------------------------------------


def test_patchshuffle_keeps_the_multiset_of_patches() -> None:
    x = torch.rand(3, 3, 32, 32)
    out = fp.transform("patchshuffle:4")(x)
    before, after = patches(x, 4), patches(out, 4)
    assert not torch.equal(before, after)
    # The patches are distinct, so equal multisets means: each output patch equals exactly one
    # input patch of the same image, and each input patch is used once.
    match = (after[:, :, None] == before[:, None, :]).all(-1)
    assert torch.equal(match.sum(2), torch.ones(3, 16, dtype=torch.long))
    assert torch.equal(match.sum(1), torch.ones(3, 16, dtype=torch.long))


def test_patchshuffle_puts_input_patch_order_j_at_row_major_position_j() -> None:
    x = torch.rand(2, 3, 32, 16)  # not square: patches are 8x4
    index = torch.tensor([5, 9])
    out = fp.transform("patchshuffle:4,seed=2")(x, index)
    order = keyed_permutation(2, index, 16, "patchshuffle")
    assert torch.equal(patches(out, 4), torch.gather(patches(x, 4), 1, order[:, :, None].expand(-1, -1, 3 * 8 * 4)))


def test_patchshuffle_permutes_each_image_of_a_batch_differently() -> None:
    x = torch.rand(1, 3, 32, 32).expand(4, -1, -1, -1)
    out = fp.transform("patchshuffle:4")(x)
    assert all(not torch.equal(out[0], out[i]) for i in range(1, 4))


def test_patchshuffle_depends_on_seed_and_index_not_on_batch_split() -> None:
    x = torch.rand(6, 3, 32, 32)
    shuffle = fp.transform("patchshuffle:4,seed=1")
    whole = shuffle(x)
    halves = torch.cat([shuffle(x[:3], torch.arange(3)), shuffle(x[3:], torch.arange(3, 6))])
    assert torch.equal(whole, halves)
    assert not torch.equal(whole, fp.transform("patchshuffle:4,seed=2")(x))


def test_patchshuffle_grid_must_divide_the_image_size() -> None:
    with pytest.raises(SpecError, match="valid K: 2, 4, 8, 16, 32"):
        fp.transform("patchshuffle:5", size=32)
    with pytest.raises(SpecError, match="does not divide"):
        fp.transform("patchshuffle:4")(torch.rand(1, 3, 30, 32))


# -- grayscale -------------------------------------------------------------------------


def test_grayscale_is_bt601_luma_on_every_channel() -> None:
    images = smooth_images(2)
    expected = images.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255
    out = fp.transform("grayscale")(to_tensor(images)).numpy()
    for channel in range(3):
        np.testing.assert_allclose(out[:, channel], expected, atol=1e-6)


def test_grayscale_keeps_a_single_channel_image() -> None:
    x = torch.rand(2, 1, 16, 16)
    assert torch.equal(fp.transform("grayscale")(x), x)


def test_luminance_rejects_other_channel_counts() -> None:
    with pytest.raises(ValueError, match="1 or 3 channels"):
        luminance(torch.rand(1, 4, 8, 8))


# -- blur ------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_blur_matches_scipy_gaussian_filter_mirror(sigma: float) -> None:
    x = to_tensor(smooth_images(2))
    out = fp.transform(f"blur:{sigma}")(x).numpy()
    # scipy's default truncate=4.0 gives the same radius int(4 sigma + 0.5)
    expected = scipy.ndimage.gaussian_filter(x.double().numpy(), sigma=(0, 0, sigma, sigma), mode="mirror")
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_blur_wider_than_the_image_mirrors_repeatedly_like_scipy() -> None:
    x = torch.rand(1, 3, 8, 6, dtype=torch.float64)  # radius 12 exceeds both sides
    out = fp.transform("blur:3")(x).numpy()
    expected = scipy.ndimage.gaussian_filter(x.numpy(), sigma=(0, 0, 3, 3), mode="mirror")
    np.testing.assert_allclose(out, expected, atol=1e-10)


# -- noise -----------------------------------------------------------------------------


def test_noise_has_zero_mean_and_the_requested_std_unclipped() -> None:
    x = torch.zeros(4, 3, 64, 64)
    out = fp.transform("noise:0.1")(x)
    assert abs(out.mean().item()) < 0.002  # 49k samples: standard error 0.00045
    assert abs(out.std().item() - 0.1) < 0.002
    assert out.min() < 0  # not clipped


def test_noise_depends_on_seed_and_index_not_on_batch_split() -> None:
    x = torch.zeros(6, 3, 16, 16)  # the output is the noise itself
    noise = fp.transform("noise:0.05,seed=4")
    whole = noise(x)
    halves = torch.cat([noise(x[:3], torch.arange(3)), noise(x[3:], torch.arange(3, 6))])
    assert torch.equal(whole, halves)
    assert not torch.allclose(whole[0], whole[1])  # another image, another draw
    assert not torch.allclose(whole, fp.transform("noise:0.05,seed=5")(x))


# -- jpeg ------------------------------------------------------------------------------


def pil_jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling=2)  # 2: 4:2:0
    return np.asarray(Image.open(buffer))


@pytest.mark.parametrize("quality", [10, 75, 95])
def test_jpeg_matches_pil_at_the_same_quality(quality: int) -> None:
    images = smooth_images(3)
    out = fp.transform(f"jpeg:{quality}")(to_tensor(images)).permute(0, 2, 3, 1).numpy()
    expected = np.stack([pil_jpeg(image, quality) for image in images]) / 255
    # libjpeg builds may round differently; a channel swap or 4:4:4 would miss by ~2-7/255 on average
    diff = np.abs(out - expected)
    assert diff.mean() < 1 / 255 and diff.max() < 16 / 255


def test_jpeg_of_a_grayscale_image_matches_pil() -> None:
    gray = smooth_images(2)[..., 0]
    out = fp.transform("jpeg:50")(torch.from_numpy(gray)[:, None].float() / 255)[:, 0].numpy()
    diff = np.abs(out - np.stack([pil_jpeg(image, 50) for image in gray]) / 255)
    assert diff.mean() < 1 / 255 and diff.max() < 16 / 255


def test_jpeg_distorts_more_at_low_quality() -> None:
    x = to_tensor(smooth_images(2))
    error = {q: (fp.transform(f"jpeg:{q}")(x) - x).abs().mean().item() for q in (10, 95)}
    assert error[10] > 2 * error[95] > 0


def test_jpeg_clips_its_input_to_the_unit_range() -> None:
    x = to_tensor(smooth_images(1))
    stretched = (x - 0.5) * 3 + 0.5  # well outside [0, 1]
    jpeg = fp.transform("jpeg:90")
    assert torch.equal(jpeg(stretched), jpeg(stretched.clamp(0, 1)))
    assert 0 <= jpeg(stretched).min() and jpeg(stretched).max() <= 1
