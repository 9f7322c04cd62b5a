"""Denoisers and residuals against SciPy / scikit-image references; autocorrelation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import torch
from skimage.restoration import denoise_wavelet

from freqprobe.errors import FreqprobeError
from freqprobe.spectra.residuals import autocorrelation, forgetful_median, median_filter, noise_residual
from freqprobe.transforms.spatial import gaussian_blur


@pytest.mark.parametrize("size", [3, 5])
def test_median_filter_equals_scipy_with_mirror_border(size: int) -> None:
    x = torch.rand(2, 3, 17, 12, generator=torch.Generator().manual_seed(size))
    expected = scipy.ndimage.median_filter(x.numpy(), size=(1, 1, size, size), mode="mirror")
    assert np.array_equal(median_filter(x, size).numpy(), expected)


@pytest.mark.parametrize("n", [1, 3, 9, 25])
def test_forgetful_median_equals_torch_median(n: int) -> None:
    values = torch.rand(n, 500, generator=torch.Generator().manual_seed(n))
    assert torch.equal(forgetful_median(list(values)), values.median(0).values)


def test_gaussian_residual_is_the_image_minus_its_sigma_1_blur() -> None:
    x = torch.rand(2, 1, 16, 16)
    assert torch.allclose(noise_residual(x, "gaussian"), x - gaussian_blur(x, 1.0, 4))


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
