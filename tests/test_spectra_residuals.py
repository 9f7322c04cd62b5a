"""Denoisers and residuals against SciPy / scikit-image references; autocorrelation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import torch
from skimage.restoration import denoise_wavelet

from freqprobe.errors import FreqprobeError
from freqprobe.spectra.power import periodogram, power_in_place, power_spectrum, spectral_window
from freqprobe.spectra.residuals import (
    autocorrelation,
    forgetful_median,
    median_filter,
    noise_residual,
    residual_spectrum,
)


@pytest.mark.parametrize("size", [3, 5])
def test_median_filter_equals_scipy_with_mirror_border(size: int) -> None:
    x = torch.rand(2, 3, 17, 12, generator=torch.Generator().manual_seed(size))
    expected = scipy.ndimage.median_filter(x.numpy(), size=(1, 1, size, size), mode="mirror")
    assert np.array_equal(median_filter(x, size).numpy(), expected)


@pytest.mark.parametrize("n", [1, 3, 9, 25])
def test_forgetful_median_equals_torch_median(n: int) -> None:
    values = torch.rand(n, 500, generator=torch.Generator().manual_seed(n))
    assert torch.equal(forgetful_median(list(values)), values.median(0).values)


def periodic_component(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moisan's periodic plus smooth split ``image = p + s``, straight from its definition:
    ``s`` solves ``laplacian(s) = v`` (periodic 5-point Laplacian, zero mean), ``v`` the border image."""
    height, width = image.shape
    v = np.zeros_like(image)
    v[0, :] += image[-1, :] - image[0, :]
    v[-1, :] += image[0, :] - image[-1, :]
    v[:, 0] += image[:, -1] - image[:, 0]
    v[:, -1] += image[:, 0] - image[:, -1]
    ky, kx = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    eigenvalues = 2 * np.cos(2 * np.pi * ky / height) + 2 * np.cos(2 * np.pi * kx / width) - 4
    eigenvalues[0, 0] = 1.0
    smooth_hat = np.fft.fft2(v) / eigenvalues
    smooth_hat[0, 0] = 0.0
    smooth = np.fft.ifft2(smooth_hat).real
    return image - smooth, smooth


@pytest.mark.parametrize("shape", [(16, 16), (15, 12), (9, 20)])
def test_gaussian_residual_is_the_fourier_high_pass_of_the_periodic_component(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(1).random(shape)
    periodic, smooth = periodic_component(image)
    laplacian = sum(np.roll(smooth, k, axis) for k in (1, -1) for axis in (0, 1)) - 4 * smooth
    assert np.abs(laplacian[1:-1, 1:-1]).max() < 1e-12  # s is harmonic inside: all of the content is in p
    fy, fx = np.fft.fftfreq(shape[0])[:, None], np.fft.fftfreq(shape[1])[None, :]
    highpass = 1 - np.exp(-2 * np.pi**2 * (fy**2 + fx**2))
    expected = np.fft.ifft2(np.fft.fft2(periodic) * highpass).real
    residual = noise_residual(torch.from_numpy(image)[None, None], "gaussian")[0, 0].numpy()
    assert np.abs(residual - expected).max() < 1e-12


def test_gaussian_residual_is_the_periodic_component_minus_its_sigma_1_blur() -> None:
    image = np.random.default_rng(2).random((32, 24))
    periodic, _ = periodic_component(image)
    blurred = scipy.ndimage.gaussian_filter(periodic, sigma=1.0, mode="wrap", truncate=8.0)
    residual = noise_residual(torch.from_numpy(image)[None, None], "gaussian")[0, 0].numpy()
    # The sampled kernel passes 0.0144 of the Nyquist frequency, the continuous Gaussian 0.0072.
    assert np.abs(residual - (periodic - blurred)).max() < 0.01 * np.abs(residual).max()


@pytest.mark.parametrize("window", ["hann", "none"])
@pytest.mark.parametrize("denoiser", ["gaussian", "median3", "wavelet"])
@pytest.mark.parametrize("shape", [(32, 32), (24, 18)])
def test_residual_spectrum_is_the_periodogram_of_the_residual(
    window: str, denoiser: str, shape: tuple[int, int]
) -> None:
    x = torch.rand(3, 1, *shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = power_spectrum(noise_residual(x, denoiser), spectral_window(*shape, window).double())
    fast = power_in_place(residual_spectrum(x.clone(), denoiser, periodogram(*shape, window)))
    assert torch.allclose(fast, expected, rtol=1e-5, atol=1e-9 * float(expected.max()))


def test_wavelet_denoiser_equals_scikit_image_bayes_shrink() -> None:
    rng = np.random.default_rng(0)
    image = np.clip(np.cumsum(rng.normal(size=(64, 64)), 1) / 30 + 0.5 + rng.normal(0, 0.05, (64, 64)), 0, 1)
    expected = denoise_wavelet(
        image, wavelet="db4", mode="soft", method="BayesShrink", wavelet_levels=3, rescale_sigma=False
    )
    denoised = image - noise_residual(torch.from_numpy(image)[None, None], "wavelet")[0, 0].numpy()
    assert np.abs(denoised - expected).max() < 1e-4


@pytest.mark.parametrize("denoiser", ["median3", "median5", "gaussian", "wavelet"])
def test_constant_images_have_zero_residual(denoiser: str) -> None:
    flat = torch.full((2, 1, 32, 32), 0.25)
    assert float(noise_residual(flat, denoiser).abs().max()) < 1e-6


def test_unknown_denoiser_is_a_one_line_error() -> None:
    expected = "^unknown denoiser 'bm3d'; choose one of median3, median5, gaussian, wavelet$"
    with pytest.raises(FreqprobeError, match=expected):
        noise_residual(torch.zeros(1, 1, 8, 8), "bm3d")


def test_autocorrelation_of_a_period_4_pattern_repeats_every_4_lags() -> None:
    xx = torch.arange(32.0)
    pattern = torch.cos(2 * torch.pi * xx / 4).expand(32, 32)
    power = torch.fft.fft2(pattern.double()).abs().square()
    correlation = autocorrelation(power)
    assert correlation[0, 0] == 1.0
    assert torch.allclose(correlation[0, 4], torch.tensor(1.0, dtype=torch.float64))
    assert torch.allclose(correlation[0, 2], torch.tensor(-1.0, dtype=torch.float64))
    assert torch.equal(autocorrelation(torch.zeros(8, 8)), torch.zeros(8, 8))
