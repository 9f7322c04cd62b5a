"""Fourier masks, proven against numpy/scipy references and physical facts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import torch

import freqprobe as fp
from freqprobe.transforms.fourier import WINDOWS
from freqprobe.errors import SpecError

from synthetic import natural_like

SIZES = [(32, 32), (24, 40), (33, 27)]


def np_radius(height: int, width: int) -> np.ndarray:
    return np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])


def np_filter(x: torch.Tensor, gain: np.ndarray) -> np.ndarray:
    return np.fft.ifft2(np.fft.fft2(x.double().numpy()) * gain).real


@pytest.mark.parametrize("size", SIZES)
def test_ideal_lowpass_leaves_no_energy_above_cutoff(size: tuple[int, int]) -> None:
    x = natural_like(3, *size)
    y = fp.transform("lowpass:0.2")(x).double().numpy()
    spectrum = np.fft.fft2(y)
    radius = np_radius(*size)
    total = (np.abs(np.fft.fft2(x.double().numpy())) ** 2).sum()
    assert (np.abs(spectrum[..., radius > 0.2]) ** 2).sum() < 1e-10 * total
    np.testing.assert_allclose(spectrum[..., radius <= 0.2], np.fft.fft2(x.double().numpy())[..., radius <= 0.2], atol=1e-3)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("window", WINDOWS)
def test_lowpass_plus_highpass_is_the_input(size: tuple[int, int], window: str) -> None:
    x = natural_like(2, *size)
    low = fp.transform(f"lowpass:0.17,window={window}")(x)
    high = fp.transform(f"highpass:0.17,window={window}")(x)
    torch.testing.assert_close(low + high, x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("window", WINDOWS)
def test_bands_that_tile_the_spectrum_sum_to_the_input(window: str) -> None:
    x = natural_like(2, 31, 36)
    edges = [0.05, 0.12, 0.3, 0.5]
    parts = [fp.transform(f"lowpass:{edges[0]},window={window}")(x)]
    parts += [fp.transform(f"bandpass:{a},{b},window={window}")(x) for a, b in zip(edges, edges[1:])]
    parts.append(fp.transform(f"highpass:{edges[-1]},window={window}")(x))
    torch.testing.assert_close(sum(parts), x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("size", SIZES)
def test_gaussian_window_matches_scipy_fourier_gaussian(size: tuple[int, int]) -> None:
    x = natural_like(2, *size)
    cutoff = 0.1
    sigma = 1.0 / (2 * np.pi * cutoff)  # a spatial Gaussian of this sigma has gain exp(-f^2/(2 cutoff^2))
    spectrum = np.fft.fft2(x.double().numpy())
    expected = np.stack(
        [[np.fft.ifft2(scipy.ndimage.fourier_gaussian(c, sigma=sigma)).real for c in img] for img in spectrum]
    )
    y = fp.transform(f"lowpass:{cutoff},window=gaussian")(x)
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-5)


def test_butterworth_matches_its_closed_form_and_halves_power_at_cutoff() -> None:
    x = natural_like(2, 28, 36)
    radius = np_radius(28, 36)
    gain = 1.0 / (1.0 + (radius / 0.2) ** 8)
    y = fp.transform("lowpass:0.2,window=butterworth,order=4")(x)
    np.testing.assert_allclose(y.numpy(), np_filter(x, gain), atol=1e-5)
    mask = fp.transform("lowpass:0.2,window=butterworth,order=4").mask(28, 36)
    assert abs(float(mask[0, 9]) - 1 / (1 + (0.25 / 0.2) ** 8)) < 1e-9


def test_ideal_bandpass_matches_numpy_reference_on_odd_size() -> None:
    x = natural_like(2, 33, 27)
    radius = np_radius(33, 27)
    gain = ((radius > 0.1) & (radius <= 0.3)).astype(float)
    np.testing.assert_allclose(fp.transform("bandpass:0.1,0.3")(x).numpy(), np_filter(x, gain), atol=1e-5)


def stripes(height: int, width: int, fy: float, fx: float) -> torch.Tensor:
    yy, xx = np.mgrid[:height, :width]
    return torch.from_numpy(np.cos(2 * np.pi * (fy * yy + fx * xx)))[None, None].float().repeat(1, 3, 1, 1)


def test_orientation_sector_separates_horizontal_and_vertical_stripes() -> None:
    horizontal_stripes = stripes(32, 32, fy=0.25, fx=0.0)  # varies along y: 90 degrees
    vertical_stripes = stripes(32, 32, fy=0.0, fx=0.25)  # varies along x: 0 degrees
    x = horizontal_stripes + vertical_stripes
    keep_90 = fp.transform("highpass:0.1,angle=80,100")(x)
    keep_0 = fp.transform("highpass:0.1,angle=170,10")(x)
    torch.testing.assert_close(keep_90, horizontal_stripes, atol=1e-5, rtol=0)
    torch.testing.assert_close(keep_0, vertical_stripes, atol=1e-5, rtol=0)


def test_orientation_sectors_tile_the_spectrum() -> None:
    x = natural_like(2, 30, 34)
    sectors = [(0, 45), (45, 90), (90, 135), (135, 180)]
    total = sum(fp.transform(f"lowpass:0.71,angle={a},{b}")(x) for a, b in sectors)
    torch.testing.assert_close(total, x, atol=1e-5, rtol=0)


def test_diagonal_sector_keeps_diagonal_content_only() -> None:
    diagonal = stripes(32, 32, fy=0.125, fx=0.125)  # 45 degrees
    anti_diagonal = stripes(32, 32, fy=-0.125, fx=0.125)  # 135 degrees
    y = fp.transform("highpass:0.05,angle=30,60")(diagonal + anti_diagonal)
    torch.testing.assert_close(y, diagonal, atol=1e-5, rtol=0)


@pytest.mark.parametrize("size", SIZES)
def test_masks_are_hermitian_so_outputs_equal_full_complex_filtering(size: tuple[int, int]) -> None:
    x = natural_like(1, *size)
    t = fp.transform("bandpass:0.07,0.33,window=butterworth,angle=20,70")
    mask = t.mask(*size).numpy()
    flipped = np.roll(mask[::-1, ::-1], shift=(1, 1), axis=(0, 1))  # M(-k)
    np.testing.assert_allclose(mask, flipped, atol=1e-12)
    full = np.fft.ifft2(np.fft.fft2(x.double().numpy()) * mask)
    assert np.abs(full.imag).max() < 1e-9
    np.testing.assert_allclose(t(x).numpy(), full.real, atol=1e-5)


def test_outputs_are_not_clipped() -> None:
    x = natural_like(2, 32, 32)
    high = fp.transform("highpass:0.1")(x)
    assert high.min() < 0  # zero-mean detail: the policy keeps linear filters linear
    assert abs(high.mean().item()) < 1e-5


@pytest.mark.parametrize("spec", ["bandpass:0.30,0.31", "highpass:0.71", "lowpass:0.1,angle=30,40"])
def test_a_mask_that_keeps_no_frequency_of_the_size_is_a_spec_error(spec: str) -> None:
    with pytest.raises(SpecError, match="keeps no frequency of a 16x16 image"):
        fp.transform(spec, size=(16, 16))
    with pytest.raises(SpecError, match="keeps no frequency of a 16x16 image"):
        fp.transform(spec)(torch.rand(2, 3, 16, 16))
    fp.transform("bandpass:0.30,0.31", size=(64, 64))  # 0.3125 = 20/64 lies in the band
