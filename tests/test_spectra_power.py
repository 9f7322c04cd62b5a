"""Periodograms on the half plane: normalisation, window, Hermitian rebuild."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqprobe.errors import FreqprobeError
from freqprobe.spectra.measure import MeasurePlan, image_power
from freqprobe.spectra.power import (
    full_plane,
    half_plane_multiplicity,
    hann_half_plane,
    periodogram,
    power_in_place,
    power_spectrum,
    spectral_window,
)
from freqprobe.spectra.workspace import Workspace
from freqprobe.transforms.spatial import luminance


@pytest.mark.parametrize("window", ["none", "hann"])
def test_white_noise_power_is_its_variance_at_every_frequency(window: str) -> None:
    noise = 0.1 * torch.randn(400, 1, 16, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    power = power_spectrum(noise, spectral_window(16, 16, window).double()).mean(0)[0]
    away_from_dc = power.flatten()[1:]
    assert torch.allclose(away_from_dc, torch.full_like(away_from_dc, 0.01), rtol=0.25)
    assert float(away_from_dc.mean()) == pytest.approx(0.01, rel=0.03)


def test_hann_bias_next_to_dc_is_the_known_cost_of_estimating_the_mean() -> None:
    noise = torch.randn(4000, 1, 16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    power = power_spectrum(noise, spectral_window(16, 16, "hann").double()).mean(0)[0]
    # E|F|^2 = s^2 (sum w^2 - |W(k)|^2 / HW): 8/9 of s^2 at (0, 1), 35/36 at (1, 1)
    assert float(power[0, 1]) == pytest.approx(8 / 9, rel=0.05)
    assert float(power[1, 1]) == pytest.approx(35 / 36, rel=0.05)


@pytest.mark.parametrize("shape", [(16, 16), (12, 20), (15, 9)])
def test_full_plane_equals_the_periodogram_of_the_full_fft(shape: tuple[int, int]) -> None:
    height, width = shape
    x = torch.rand(3, 2, height, width, dtype=torch.float64)
    half = power_spectrum(x, spectral_window(height, width, "none").double())
    centred = x - x.mean((-2, -1), keepdim=True)
    expected = torch.fft.fft2(centred).abs().square() / (height * width)
    assert torch.allclose(full_plane(half, width), expected, atol=1e-12)


def test_without_window_power_sums_to_the_pixel_variance() -> None:
    x = torch.rand(2, 1, 12, 10, dtype=torch.float64)
    half = power_spectrum(x, spectral_window(12, 10, "none").double())
    total = (half * half_plane_multiplicity(12, 10).double()).sum((-2, -1))
    assert torch.allclose(total / (12 * 10), x.var((-2, -1), unbiased=False))


@pytest.mark.parametrize("window", ["none", "hann"])
def test_brightness_changes_no_power(window: str) -> None:
    x = torch.rand(4, 3, 16, 16, dtype=torch.float64)
    w = spectral_window(16, 16, window).double()
    assert torch.allclose(power_spectrum(x + 5.0, w), power_spectrum(x, w), atol=1e-12)
    if window == "none":
        assert float(power_spectrum(x, w)[..., 0, 0].abs().max()) < 1e-20


def test_hann_keeps_an_on_bin_sinusoid_peaked_at_its_exact_bin() -> None:
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    wave = torch.cos(2 * torch.pi * (5 * yy + 9 * xx) / 32)[None, None]
    power = full_plane(power_spectrum(wave, spectral_window(32, 32, "hann")), 32)[0, 0]
    assert divmod(int(power.argmax()), 32) in {(5, 9), (32 - 5, 32 - 9)}


def test_unknown_window_is_a_one_line_error() -> None:
    with pytest.raises(FreqprobeError, match="unknown window 'hamming'; choose one of hann, none"):
        spectral_window(8, 8, "hamming")


def test_multiplicity_counts_every_full_plane_frequency_once() -> None:
    for height, width in [(8, 8), (8, 7), (5, 6)]:
        assert float(half_plane_multiplicity(height, width).sum()) == height * width
    assert np.array_equal(half_plane_multiplicity(2, 6)[0].numpy(), [1, 2, 2, 1])


@pytest.mark.parametrize("shape", [(16, 16), (12, 20), (15, 9), (9, 14)])
def test_hann_in_the_frequency_domain_is_the_hann_window_in_space(shape: tuple[int, int]) -> None:
    height, width = shape
    x = torch.rand(2, 3, height, width, dtype=torch.float64)
    wy = torch.hann_window(height, periodic=True, dtype=torch.float64)
    wx = torch.hann_window(width, periodic=True, dtype=torch.float64)
    expected = torch.fft.rfft2(x * (wy[:, None] * wx[None, :]))
    assert torch.allclose(hann_half_plane(torch.fft.rfft2(x), width), expected, atol=1e-12)


@pytest.mark.parametrize("window", ["hann", "none"])
@pytest.mark.parametrize("shape", [(16, 16), (15, 9)])
def test_fast_periodogram_equals_the_reference(window: str, shape: tuple[int, int]) -> None:
    x = torch.rand(4, 2, *shape, dtype=torch.float64) + 3.0
    w = torch.ones(shape, dtype=torch.float64)
    if window == "hann":  # the exact window: spectral_window's is rounded to float32
        w = torch.outer(*(torch.hann_window(n, periodic=True, dtype=torch.float64) for n in shape))
    expected = power_spectrum(x, w)
    fast = power_in_place(periodogram(*shape, window).spectrum(x.clone()))
    assert torch.allclose(fast, expected, rtol=1e-9, atol=1e-15)


def test_luminance_spectrum_is_the_weighted_sum_of_the_channel_spectra() -> None:
    pixels = torch.randint(0, 256, (3, 3, 16, 12), generator=torch.Generator().manual_seed(4)).float()
    plan = MeasurePlan.build(16, 12, torch.device("cpu"), "hann", "gaussian", None)
    power = image_power(pixels.clone(), plan, Workspace(plan.device))
    window = spectral_window(16, 12, "hann")
    x = pixels / 255
    assert torch.allclose(power[:, :3], power_spectrum(x, window), rtol=1e-4, atol=1e-10)
    assert torch.allclose(power[:, 3:], power_spectrum(luminance(x), window), rtol=1e-4, atol=1e-10)
