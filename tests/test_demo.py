from __future__ import annotations

import numpy as np
import pytest
import torch

import freqprobe as fp
from freqprobe.errors import DataError
from freqprobe.data.demo import UPSAMPLER_TAPS, upsampling_generator


def test_demo_sets_are_deterministic_and_paired() -> None:
    real, fake = fp.demo_sets(n=12, size=32, seed=5)
    again_real, again_fake = fp.demo_sets(n=12, size=32, seed=5)
    assert torch.equal(real.images, again_real.images) and torch.equal(fake.images, again_fake.images)
    assert real.names == fake.names and len(set(real.names)) == 12
    other, _ = fp.demo_sets(n=12, size=32, seed=6)
    assert not torch.equal(real.images, other.images)


def reference_generator(image: np.ndarray) -> np.ndarray:
    """Independent numpy version: 2x2 mean, edge pad, zero-insertion, 4x4 kernel."""
    channels, height, width = image.shape
    low = image.reshape(channels, height // 2, 2, width // 2, 2).mean(axis=(2, 4))
    padded = np.pad(low, ((0, 0), (1, 1), (1, 1)), mode="edge")
    taps = np.array(UPSAMPLER_TAPS)
    kernel = np.outer(taps, taps)
    m = padded.shape[1]
    full = np.zeros((channels, 2 * m + 2, 2 * m + 2))
    for i in range(m):
        for j in range(m):
            full[:, 2 * i : 2 * i + 4, 2 * j : 2 * j + 4] += padded[:, i, j, None, None] * kernel
    return full[:, 3 : 3 + height, 3 : 3 + width]


def test_generator_matches_an_independent_transposed_convolution() -> None:
    real, fake = fp.demo_sets(n=3, size=16, seed=0)
    for i in range(3):
        expected = reference_generator(real.images[i].double().numpy() / 255)
        np.testing.assert_allclose(fake.images[i].double().numpy(), np.clip(np.round(expected * 255), 0, 255), atol=1)


def test_generator_imprints_a_faint_checkerboard_on_flat_images() -> None:
    flat = torch.full((1, 3, 8, 8), 100, dtype=torch.uint8)
    out = upsampling_generator(flat)[0, 0]
    assert {int(v) for v in out.unique()} == {98, 100, 102}  # gains 0.99^2, 0.99*1.01, 1.01^2
    assert out[0, 0] != out[0, 1] and out[0, 0] != out[1, 0]


def test_generated_spectrum_carries_the_known_fingerprint() -> None:
    real, fake = fp.demo_sets(n=200, size=32)

    def mean_power(images: fp.ImageSet) -> np.ndarray:
        gray = images.float("cpu").mean(dim=1).double().numpy()
        return (np.abs(np.fft.fft2(gray - gray.mean(axis=(1, 2), keepdims=True))) ** 2).mean(axis=0)

    ratio = (mean_power(fake) + 1e-12) / (mean_power(real) + 1e-12)
    nyquist = 16  # 0.5 cycles/pixel on a 32-pixel axis
    for peak in [(0, nyquist), (nyquist, 0)]:
        assert ratio[peak] > 2  # the checkerboard (a plain bilinear upsampler gives ~0 here)
    freqs = np.hypot(*np.meshgrid(np.fft.fftfreq(32), np.fft.fftfreq(32), indexing="ij"))
    band = (freqs > 0.3) & (freqs < 0.45)
    assert np.median(ratio[band]) < 0.5  # detail above 0.25 c/px is lost in the 2x down/up


def test_demo_sets_reject_odd_sizes() -> None:
    with pytest.raises(DataError, match="even size"):
        fp.demo_sets(n=4, size=33)
