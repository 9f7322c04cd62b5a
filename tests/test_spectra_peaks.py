"""The peak finder: planted artifacts come back at their exact frequencies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import freqprobe as fp
from freqprobe.spectra.peaks import find_peaks, folded_frequency, in_half_plane

SIZE = 64


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    """256 demo photo crops of 64 px, float ``(N, 3, H, W)`` in grey levels."""
    return fp.demo_sets(n=256, size=SIZE, seed=3)[0].images.float()


def to_set(grey_levels: torch.Tensor) -> fp.ImageSet:
    return fp.ImageSet(grey_levels.round().clamp(0, 255).to(torch.uint8))


def with_camera_noise(images: torch.Tensor, seed: int) -> torch.Tensor:
    """Add 1 grey level of Gaussian noise: 8-bit rounding then dithers, as in real captures."""
    return images + torch.randn(images.shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("ky", "kx", "expected"), [(12, 20, (0.1875, 0.3125)), (25, -30, (-0.390625, 0.46875))])
def test_planted_sinusoid_far_below_one_grey_level_is_the_strongest_peak_at_its_bin(
    photos: torch.Tensor, ky: int, kx: int, expected: tuple[float, float]
) -> None:
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    wave = 0.2 * torch.cos(2 * torch.pi * (ky * yy + kx * xx) / SIZE + 0.7)  # 0.2 grey levels
    clean, planted = with_camera_noise(photos[:128], 0), with_camera_noise(photos[128:], 1) + wave
    report = fp.spectrum(to_set(clean), to_set(planted), device="cpu")
    peaks = report.peaks.set_index("set")
    assert tuple(peaks.loc[["fake"]].iloc[0][["fy", "fx"]]) == expected
    assert "real" not in peaks.index


def test_transposed_conv_upsampling_peaks_at_the_three_nyquist_frequencies(photos: torch.Tensor) -> None:
    # A stride-2 3x3 transposed convolution: its four output phases have unequal gains
    # (0.95, 1, 1, 1), so even a flat input comes out with a faint checkerboard.
    kernel = torch.tensor([[0.2, 0.5, 0.25], [0.45, 1.0, 0.55], [0.3, 0.5, 0.2]]).expand(3, 1, 3, 3).contiguous()
    low = F.avg_pool2d(photos[128:], 2)
    up = F.conv_transpose2d(F.pad(low, (1, 1, 1, 1), mode="replicate"), kernel, stride=2, groups=3)
    report = fp.spectrum(to_set(photos[:128]), to_set(up[..., 2 : 2 + SIZE, 2 : 2 + SIZE]), device="cpu")
    found = report.peaks[report.peaks["set"] == "fake"]
    assert set(zip(found["fy"][:3], found["fx"][:3])) == {(0.0, 0.5), (0.5, 0.0), (0.5, 0.5)}


def test_block_artifact_peaks_at_multiples_of_one_eighth(photos: torch.Tensor) -> None:
    tile = torch.randn(8, 8, generator=torch.Generator().manual_seed(1)) * 0.5  # fixed per 8x8 block
    blocky = with_camera_noise(photos[128:], 1) + (tile - tile.mean()).repeat(SIZE // 8, SIZE // 8)
    report = fp.spectrum(to_set(with_camera_noise(photos[:128], 0)), to_set(blocky), device="cpu", max_peaks=50)
    found = report.peaks[report.peaks["set"] == "fake"]
    assert len(found) >= 8
    assert np.all((found["fy"] * 8) % 1 == 0) and np.all((found["fx"] * 8) % 1 == 0)


def test_demo_generator_shows_its_checkerboard_and_real_photos_do_not() -> None:
    real, generated = fp.demo_sets(n=200, size=SIZE)
    peaks = fp.spectrum(real, generated, names=["real", "generated"], device="cpu").peaks
    assert set(zip(peaks["fy"], peaks["fx"])) == {(0.0, 0.5), (0.5, 0.0), (0.5, 0.5)}
    assert set(peaks["set"]) == {"generated"}


def test_each_conjugate_pair_is_reported_once_and_dc_never() -> None:
    level = np.random.default_rng(0).normal(0, 0.1, (16, 16))
    level[0, 0] = 50.0  # DC
    for ky, kx in [(3, 5), (0, 4), (8, 0), (8, 8), (5, 8)]:  # generic, both axes, Nyquist corner and column
        level[ky, kx] = level[-ky % 16, -kx % 16] = 5.0
    found = find_peaks(level)
    assert len(found) == 5
    assert set(zip(found["fy"], found["fx"])) == {(0.1875, 0.3125), (0.0, 0.25), (0.5, 0.0), (0.5, 0.5), (0.3125, 0.5)}
    assert np.all(found["score"].diff().dropna() <= 0)


def test_noise_alone_has_no_peaks() -> None:
    level = 10 * np.log10(np.random.default_rng(2).exponential(1.0, (200, 64, 64)).mean(0))
    assert find_peaks(level).empty


def test_half_plane_holds_one_of_each_conjugate_pair() -> None:
    for height, width in [(8, 8), (7, 10), (9, 5)]:
        fy = folded_frequency(np.arange(height), height)[:, None] * np.ones((1, width))
        fx = np.ones((height, 1)) * folded_frequency(np.arange(width), width)[None, :]
        chosen = in_half_plane(fy, fx)
        mirrored = chosen[(-np.arange(height)) % height][:, (-np.arange(width)) % width]
        self_conjugate = (np.abs(fy) % 0.5 == 0) & (np.abs(fx) % 0.5 == 0)
        assert np.all(chosen | mirrored) and np.all(~(chosen & mirrored) | self_conjugate)
