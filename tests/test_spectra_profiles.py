"""Radial and angular profiles: bins, mean convention, error bars, known spectra."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import freqprobe as fp
from freqprobe.spectra.power import full_plane, power_spectrum, spectral_window
from freqprobe.spectra.profiles import angular_binning, profiles, radial_bin_index, radial_binning


def noise_set(n: int, size: int, seed: int) -> fp.ImageSet:
    """Uniform white noise, independent per pixel and channel."""
    gen = torch.Generator().manual_seed(seed)
    return fp.ImageSet(torch.randint(0, 256, (n, 3, size, size), generator=gen, dtype=torch.uint8))


@pytest.mark.parametrize("shape", [(16, 16), (12, 20), (9, 14)])
def test_radial_means_equal_a_numpy_ring_average_of_the_full_plane(shape: tuple[int, int]) -> None:
    height, width = shape
    x = torch.rand(3, 1, height, width, dtype=torch.float64)
    half = power_spectrum(x, spectral_window(height, width, "none").double())
    binning = radial_binning(height, width)
    ours = binning.means(half.float())[:, 0].double().numpy()
    full = full_plane(half, width)[:, 0].numpy()
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    bins = np.floor(radius * min(height, width) + 0.5).astype(int)
    bins[0, 0] = -1
    for i, centre in enumerate(binning.centers.numpy()):
        ring = bins == round(centre * min(height, width))
        assert ring.sum() == int(binning.counts[i])
        assert np.allclose(ours[:, i], full[:, ring].mean(-1), rtol=1e-5)
    assert int(binning.counts.sum()) == height * width - 1  # all but DC


def test_radial_bins_are_one_over_the_short_side_wide_and_start_after_dc() -> None:
    binning = radial_binning(32, 48)
    assert np.allclose(np.diff(binning.centers.numpy()), 1 / 32)
    assert binning.centers[0] == 1 / 32  # bin 0 holds only DC: left out
    assert radial_bin_index(32, 48)[0, 0] == -1
    elongated = radial_binning(32, 128)  # (0, +-1/128) lies within half a bin of DC
    assert elongated.centers[0] == 0 and int(elongated.counts[0]) == 2


def test_white_noise_radial_profile_is_flat_within_its_error_bars() -> None:
    report = fp.spectrum(noise_set(64, 32, 0), noise_set(64, 32, 1), window="none", device="cpu")
    profile = report.table.query("set == 'real' and spectrum == 'image' and channel == 'R'")
    variance = (256**2 - 1) / 12 / 255**2  # a uniform integer on 0..255, in [0, 1] units
    z = (profile["power"] - variance) / profile["se"]
    assert np.all(np.abs(z) < 4.5)
    assert np.mean(np.abs(z) < 2) > 0.85


def test_low_pass_filtered_profile_falls_off_at_its_cutoff() -> None:
    noise = noise_set(32, 64, 2).float("cpu")
    low = fp.transform("lowpass:0.25")(noise)
    images = fp.ImageSet((low * 255).round().clamp(0, 255).to(torch.uint8))
    report = fp.spectrum(images, noise_set(32, 64, 3), device="cpu")
    profile = report.table.query("set == 'real' and spectrum == 'image' and channel == 'Y'").set_index("f")
    level = profile["power_db"]
    passband, stopband = level[(level.index > 0.05) & (level.index < 0.2)], level[level.index > 0.3]
    assert passband.max() - passband.min() < 1.5
    assert passband.mean() - stopband.max() > 30  # the stop band is 8-bit rounding noise
    drop = level.diff()
    assert 0.25 <= drop.idxmin() <= 0.25 + 2 / 64  # the steepest step is at the cutoff (Hann: one bin wide)


def test_angular_profile_separates_vertical_from_horizontal_stripes() -> None:
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    vertical = torch.cos(2 * torch.pi * 8 * xx / 32)  # varies along x: 0 degrees
    horizontal = torch.cos(2 * torch.pi * 8 * yy / 32)  # varies along y: 90 degrees
    x = torch.stack([vertical, horizontal])[:, None]
    binning = angular_binning(32, 32)
    means = binning.means(power_spectrum(x, spectral_window(32, 32, "none")))[:, 0]
    angles = binning.centers.numpy()
    assert angles[int(means[0].argmax())] == 0.0
    assert angles[int(means[1].argmax())] == 90.0
    assert float(means[0].sum()) == pytest.approx(float(means[0].max()))


@pytest.mark.parametrize("shape", [(16, 16), (12, 20), (9, 14), (15, 9)])
def test_angular_means_equal_a_numpy_sector_average_of_the_full_plane(shape: tuple[int, int]) -> None:
    height, width = shape
    x = torch.rand(3, 1, height, width, dtype=torch.float64)
    half = power_spectrum(x, spectral_window(height, width, "none").double())
    binning = angular_binning(height, width, sectors=6, min_radius=0.15)
    full = full_plane(half, width)[:, 0].numpy()
    fy, fx = np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :]
    theta = np.round(np.degrees(np.arctan2(fy, fx)) % 180, 6) % 180  # on the FFT grid, Nyquist rows included
    sector = np.floor((theta + 15) / 30) % 6
    inside = np.hypot(fy, fx) >= 0.15
    ours = binning.means(half.float())[:, 0].double().numpy()
    for i, centre in enumerate(binning.centers.numpy()):
        members = inside & (sector == round(centre / 30))
        assert members.sum() == int(binning.counts[i])
        assert np.allclose(ours[:, i], full[:, members].mean(-1), rtol=1e-5)


@pytest.mark.parametrize("shape", [(16, 16), (12, 20), (9, 14), (32, 128)])
def test_one_scatter_gives_the_reference_ring_and_sector_means(shape: tuple[int, int]) -> None:
    height, width = shape
    power = torch.rand(4, 2, height, width // 2 + 1)
    bins = profiles(height, width)
    radial, angular = bins.means(power)
    assert torch.allclose(radial, radial_binning(height, width).means(power), rtol=1e-5)
    assert torch.allclose(angular, angular_binning(height, width).means(power), rtol=1e-5)
