"""Noise residuals ``x - denoise(x)`` and their autocorrelation.

Periodic generator artifacts sit at a fraction of a grey level under image content that is
thousands of times stronger at low frequencies; subtracting a denoised copy removes most
of the content and leaves the noise-like part where such artifacts live (forensic practice:
Lukáš et al. 2006, Corvi et al. 2023). Denoisers, all batched on the images' device:

- ``median3`` / ``median5``: median over the 3x3 / 5x5 neighbourhood, mirror border
  (edge sample not repeated), by a forgetful-selection network of elementwise min/max;
- ``gaussian``: Gaussian blur, sigma 1 px (``transforms.spatial.gaussian_blur``);
- ``wavelet``: wavelet shrinkage as PyWavelets/scikit-image do it (BayesShrink, soft
  thresholds per sub-band and image; noise sigma from the median absolute finest diagonal
  coefficient / 0.6745), on ptwt's batched DWT, which matches PyWavelets' coefficients:
  ``db4``, mode ``symmetric``, 3 levels (fewer if the image is too small).

Blind spots, measured on the demo sets: a median over an odd square window keeps a
``(0.5, 0.5)`` checkerboard intact (the centre's sign holds the majority), so median
residuals never show that artifact; wavelet shrinkage keeps strong axis-aligned Nyquist
stripes in the denoised image, so its residual shows them only faintly. The linear
``gaussian`` residual keeps every pattern, with amplitude gain ``1 - exp(-2 pi**2 f**2)``
at radius ``f`` (sigma = 1: 0.71 at 0.25 cycles/pixel, 0.99 at 0.5): its spectrum is the
image spectrum times a fixed high-pass, which flattens the steep fall of natural spectra
so that weak peaks become local maxima.
"""

from __future__ import annotations

from collections.abc import Callable

import ptwt
import torch
import torch.nn.functional as F
from ptwt.constants import WaveletDetailTuple2d
from torch import Tensor

from ..errors import FreqprobeError
from ..transforms.spatial import gaussian_blur, mirror_index
from ..transforms.wavelet import max_level

GAUSSIAN_SIGMA = 1.0
WAVELET = "db4"
WAVELET_LEVELS = 3
MAD_TO_SIGMA = 0.6745  # median |N(0, 1)|


def forgetful_median(values: list[Tensor]) -> Tensor:
    """Elementwise median of an odd number of same-shape tensors, by min/max only.

    Keep ``n // 2 + 2`` candidates; the smallest and largest of them cannot be the median,
    so drop both and take in the next value, until one candidate is left.

    Example:
        >>> forgetful_median([torch.tensor([v]) for v in (5.0, 1.0, 4.0, 2.0, 3.0)]).item()
        3.0
    """
    if len(values) % 2 == 0:
        raise ValueError(f"forgetful_median needs an odd number of values, got {len(values)}")
    work, pending = list(values[: len(values) // 2 + 2]), list(values[len(values) // 2 + 2 :])
    while len(work) > 1:
        for i in range(1, len(work)):  # smallest to the front
            work[0], work[i] = torch.minimum(work[0], work[i]), torch.maximum(work[0], work[i])
        for i in range(1, len(work) - 1):  # largest to the back
            work[i], work[-1] = torch.minimum(work[i], work[-1]), torch.maximum(work[i], work[-1])
        work = work[1:-1]
        if pending:
            work.append(pending.pop(0))
    return work[0]


def median_filter(x: Tensor, size: int) -> Tensor:
    """Median over ``size x size`` neighbourhoods of ``(N, C, H, W)``, mirror border."""
    radius = size // 2
    height, width = x.shape[-2:]
    padded = x.index_select(-1, mirror_index(width, radius, x.device))
    padded = padded.index_select(-2, mirror_index(height, radius, x.device))
    shifted = [padded[..., i : i + height, j : j + width] for i in range(size) for j in range(size)]
    return forgetful_median(shifted)


def _bayes_soft_threshold(coeffs: Tensor, noise_variance: Tensor) -> Tensor:
    """Soft-threshold one detail sub-band ``(N, C, h, w)`` at BayesShrink's ``sigma_n**2 / sigma_x``."""
    signal_sd = (coeffs.square().mean((-2, -1), keepdim=True) - noise_variance).clamp_min(0).sqrt()
    largest = coeffs.abs().amax((-2, -1), keepdim=True)
    # No signal above the noise: a threshold at the largest coefficient zeroes the band.
    threshold = torch.where(signal_sd > 0, noise_variance / signal_sd.clamp_min(1e-30), largest)
    return coeffs.sign() * (coeffs.abs() - threshold).clamp_min(0)


def wavelet_shrinkage(x: Tensor) -> Tensor:
    """BayesShrink soft-thresholding of ``(N, C, H, W)`` with ``db4``, batched (ptwt)."""
    height, width = x.shape[-2:]
    level = max(1, min(WAVELET_LEVELS, max_level(height, width, WAVELET)))
    approx, *details = ptwt.wavedec2(x, WAVELET, mode="symmetric", level=level)
    finest_diagonal = details[-1][2]
    sigma = finest_diagonal.abs().flatten(-2).median(-1).values / MAD_TO_SIGMA
    noise_variance = sigma.square()[..., None, None]
    shrunk = [WaveletDetailTuple2d(*(_bayes_soft_threshold(c, noise_variance) for c in level)) for level in details]
    return ptwt.waverec2((approx, *shrunk), WAVELET)[..., :height, :width]


DENOISERS: dict[str, Callable[[Tensor], Tensor]] = {
    "median3": lambda x: median_filter(x, 3),
    "median5": lambda x: median_filter(x, 5),
    "gaussian": lambda x: gaussian_blur(x, GAUSSIAN_SIGMA, int(4 * GAUSSIAN_SIGMA + 0.5)),
    "wavelet": wavelet_shrinkage,
}


def check_denoiser(denoiser: str) -> None:
    """Raise a one-line ``FreqprobeError`` for an unknown denoiser name."""
    if denoiser not in DENOISERS:
        raise FreqprobeError(f"unknown denoiser {denoiser!r}; choose one of {', '.join(DENOISERS)}")


def noise_residual(x: Tensor, denoiser: str) -> Tensor:
    """``x - denoise(x)`` for float ``(N, C, H, W)``; same shape and device.

    Example:
        >>> flat = torch.full((2, 1, 16, 16), 0.5)
        >>> float(noise_residual(flat, "median3").abs().max())
        0.0
    """
    check_denoiser(denoiser)
    return x - DENOISERS[denoiser](x)


def autocorrelation(power: Tensor) -> Tensor:
    """Circular autocorrelation from a full-plane mean power spectrum ``(..., H, W)``.

    Wiener-Khinchin: the inverse FFT of the power, normalised to 1 at lag 0 (all zeros if
    there is no power). Lags are on the FFT grid (lag 0 at ``[0, 0]``, negative lags wrap).
    """
    correlation = torch.fft.ifft2(power.to(torch.complex128)).real
    lag0 = correlation[..., :1, :1]
    return torch.where(lag0 > 0, correlation / lag0.clamp_min(1e-300), torch.zeros_like(correlation))
