"""Edge transforms against OpenCV and kornia: Sobel magnitude and Canny edges of the luminance."""

from __future__ import annotations

import cv2
import kornia
import numpy as np
import pytest
import torch

import freqprobe as fp
from freqprobe.errors import SpecError


def smooth_images(n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """``(n, size, size, 3)`` uint8: a colour ramp, a disk and a box, plus mild noise, lightly blurred."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    images = []
    for _ in range(n):
        cy, cx, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.3)
        img = 60 + 120 * xx[..., None] * rng.uniform(0.2, 1.0, 3)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = rng.uniform(0, 255, 3)
        img[size // 8 : size // 3, size // 10 : size // 2] = rng.uniform(0, 255, 3)
        img = cv2.GaussianBlur(img + rng.normal(0, 4, img.shape), (0, 0), 0.8)
        images.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return np.stack(images)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` or ``(N, H, W)`` to float ``(N, C, H, W)`` in ``[0, 1]``."""
    x = torch.from_numpy(images).float() / 255
    return x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)


def float_gray(image: np.ndarray) -> np.ndarray:
    """OpenCV's BT.601 gray of a uint8 RGB image, in float32 ``[0, 1]`` (no uint8 rounding)."""
    return cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_RGB2GRAY)


def opencv_canny(gray_uint8: np.ndarray, low: float, high: float) -> np.ndarray:
    """cv2.Canny with our thresholds in its units: L2 magnitude of the 3x3 Sobel on 0..255."""
    return cv2.Canny(gray_uint8, low * 255, high * 255, apertureSize=3, L2gradient=True) > 0


def within_one_pixel(edges: np.ndarray, reference: np.ndarray) -> float:
    """Fraction of ``edges`` pixels with a ``reference`` edge in their 3x3 neighbourhood."""
    near = cv2.dilate(reference.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return (edges & near).sum() / edges.sum()


@pytest.mark.parametrize("spec", ["edges:canny", "edges:sobel", "edges:canny,low=0.05,high=0.3", "edges:canny,sigma=0"])
def test_canonical_specs_round_trip(spec: str) -> None:
    assert str(fp.transform(spec)) == spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("edges:prewitt", "unknown method"),
        ("edges:canny,low=0.3,high=0.2", "0 < low < high"),
        ("edges:canny,low=0,high=0.2", "0 < low < high"),
        ("edges:canny,sigma=-1", "sigma"),
        ("edges:sobel,high=0.5", "canny only"),
    ],
)
def test_bad_arguments_are_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        fp.transform(spec)


# -- sobel -----------------------------------------------------------------------------


def test_sobel_matches_opencv_sobel_magnitude_on_the_luminance() -> None:
    images = smooth_images(3)
    out = fp.transform("edges:sobel")(to_tensor(images)).numpy()
    for image, result in zip(images, out):
        gray = float_gray(image)
        dx = cv2.Sobel(gray, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
        dy = cv2.Sobel(gray, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
        expected = np.sqrt(dx**2 + dy**2)
        for channel in result:  # the whole image, borders included (both replicate)
            np.testing.assert_allclose(channel, expected, atol=1e-5)


def test_sobel_of_a_flat_image_is_zero_and_a_unit_step_is_four() -> None:
    flat = fp.transform("edges:sobel")(torch.full((1, 3, 16, 16), 0.4))
    assert flat.abs().max() < 1e-6  # float rounding of the convolution only
    step = torch.zeros(1, 1, 16, 16)
    step[..., 8:] = 1.0
    out = fp.transform("edges:sobel")(step)[0, 0]
    assert torch.allclose(out[:, 7:9], torch.full((16, 2), 4.0)) and out[:, :7].abs().max() == 0


# -- canny -----------------------------------------------------------------------------


def test_canny_without_blur_matches_opencv_canny() -> None:
    gray = np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in smooth_images(4)])
    out = fp.transform("edges:canny,sigma=0")(to_tensor(gray))[:, 0].numpy() > 0.5
    for ours, image in zip(out, gray):
        reference = opencv_canny(image, 0.1, 0.2)
        assert reference.sum() > 50  # the test images do have edges
        # Same input and thresholds: agreement is exact in practice; allow 5% for float-vs-integer ties.
        assert (ours & reference).sum() >= 0.95 * max(ours.sum(), reference.sum())


def test_canny_agrees_with_opencv_on_the_same_preblurred_image_within_one_pixel() -> None:
    images = smooth_images(4, seed=1)
    out = fp.transform("edges:canny")(to_tensor(images))[:, 0].numpy() > 0.5
    for ours, image in zip(out, images):
        # Our pre-blur: 5x5 Gaussian, sigma 1, reflect-101 border; OpenCV then sees it rounded to uint8.
        blurred = cv2.GaussianBlur(float_gray(image), (5, 5), 1.0, borderType=cv2.BORDER_REFLECT_101)
        reference = opencv_canny(np.clip(np.round(blurred * 255), 0, 255).astype(np.uint8), 0.1, 0.2)
        assert reference.sum() > 50
        assert within_one_pixel(ours, reference) >= 0.9 and within_one_pixel(reference, ours) >= 0.9


def test_canny_defaults_are_kornia_canny_of_the_luminance() -> None:
    x = to_tensor(smooth_images(2))
    gray = kornia.color.rgb_to_grayscale(x)
    _, expected = kornia.filters.canny(gray, 0.1, 0.2, kernel_size=5, sigma=(1.0, 1.0))
    assert torch.equal(fp.transform("edges:canny")(x), expected.expand_as(x))


def test_canny_finds_no_edges_in_a_flat_image() -> None:
    out = fp.transform("edges:canny")(torch.full((2, 3, 32, 32), 0.7))
    assert out.sum() == 0


def test_canny_puts_a_step_edge_at_the_step_on_every_channel() -> None:
    x = torch.full((1, 3, 32, 32), 0.2)
    x[..., 16:] = 0.8
    out = fp.transform("edges:canny")(x)[0]
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(out[0], out[1]) and torch.equal(out[0], out[2])
    # The magnitude ties across the step (columns 15 and 16); like OpenCV, the left one is kept.
    assert torch.equal(out[0].nonzero()[:, 1].unique(), torch.tensor([15]))
    assert out[0, :, 15].all()
