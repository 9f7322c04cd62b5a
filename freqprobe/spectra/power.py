"""Per-image power spectra on the half plane, and the Hermitian bookkeeping around them.

Normalisation: ``power = |FFT((x - m) * w)|**2 / sum(w**2)`` with ``w`` the window (all
ones for ``"none"``) and ``m`` the image's mean, so the brightness never leaks into the
frequencies next to DC (the periodogram with constant detrending of ``scipy.signal``). White
noise of variance ``s**2`` then has a flat spectrum equal to ``s**2`` under either window,
except that under Hann the 8 frequencies next to DC read up to 0.5 dB low, because the mean
is estimated from the same pixels. Images are in ``[0, 1]`` units.

Only the half plane ``kx in [0, W // 2]`` is computed (``rfft2``); a real image's spectrum
is Hermitian, so ``full_plane`` rebuilds the rest and ``half_plane_multiplicity`` says how
many full-plane frequencies each half-plane column stands for.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..errors import FreqprobeError

WINDOWS = ("hann", "none")
#: Power floor before any logarithm (-120 dB, far below 8-bit quantisation noise at about
#: -59 dB), so constant images give finite numbers.
POWER_FLOOR = 1e-12


def check_window(window: str) -> None:
    """Raise a one-line ``FreqprobeError`` for an unknown window name."""
    if window not in WINDOWS:
        raise FreqprobeError(f"unknown window {window!r}; choose one of {', '.join(WINDOWS)}")


def spectral_window(height: int, width: int, window: str, device: torch.device | str = "cpu") -> Tensor:
    """The 2-D window ``(H, W)`` (float32): separable periodic Hann, or ones for ``"none"``.

    The periodic ("DFT-even") Hann spreads a sinusoid that sits on a frequency bin over
    exactly that bin and its 8 neighbours, so peaks keep their exact coordinates.
    """
    check_window(window)
    if window == "none":
        return torch.ones(height, width, device=device)
    wy = torch.hann_window(height, periodic=True, device=device)
    wx = torch.hann_window(width, periodic=True, device=device)
    return wy[:, None] * wx[None, :]


def power_spectrum(x: Tensor, window: Tensor) -> Tensor:
    """Half-plane periodograms of real images.

    Args:
        x: float ``(N, C, H, W)``.
        window: ``(H, W)`` from ``spectral_window``.

    Returns:
        ``(N, C, H, W // 2 + 1)`` power on the ``rfft2`` grid, in ``x``'s dtype.

    Example:
        >>> noise = torch.randn(64, 1, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> p = power_spectrum(noise, spectral_window(16, 16, "hann"))
        >>> p.shape, round(float(p[..., 2:, 2:].mean()), 1)
        (torch.Size([64, 1, 16, 9]), 1.0)
    """
    spectrum = torch.fft.rfft2((x - x.mean((-2, -1), keepdim=True)) * window)
    return (spectrum.real.square() + spectrum.imag.square()) / window.square().sum()


def half_plane_multiplicity(height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
    """``(H, W // 2 + 1)`` float32: how many full-plane frequencies each half-plane bin stands for.

    Column 0 and, for even ``W``, the Nyquist column are their own mirror images (1); every
    other column also stands for its conjugate (2). Summing ``power * multiplicity`` over the
    half plane equals summing ``power`` over the full plane.
    """
    columns = torch.full((width // 2 + 1,), 2.0, device=device)
    columns[0] = 1.0
    if width % 2 == 0:
        columns[-1] = 1.0
    return columns.expand(height, -1)


def full_plane(half: Tensor, width: int) -> Tensor:
    """Rebuild ``(..., H, W)`` from a Hermitian half plane ``(..., H, W // 2 + 1)``: ``P(-k) = P(k)``."""
    height = half.shape[-2]
    neg_ky = (-torch.arange(height, device=half.device)) % height
    # Columns W // 2 + 1 .. W - 1 are the conjugates of columns W - W // 2 - 1 .. 1.
    conjugates = half[..., neg_ky, 1 : width - width // 2].flip(-1)
    return torch.cat([half, conjugates], dim=-1)
