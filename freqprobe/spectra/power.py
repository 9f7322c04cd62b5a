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

Fast path (``periodogram``, used by ``measure``): the window is cached per size and device
and pre-scaled by ``1 / sqrt(sum(w**2))``, mean removal and windowing happen in place, and
``power_in_place`` squares the spectrum where it lies, so a batch allocates nothing
image-sized but the FFT's output. The mean is removed before the FFT, not after it (as
``m * FFT(w)``, which is sparse): after it, float32 rounding of the large DC-region values
would leave about -100 dB of spurious power next to DC in constant images.

The periodic Hann window's DFT is non-zero at the 3 x 3 frequencies around DC only, so
multiplying an image by it is the circular 3-tap convolution ``[-1/4, 1/2, -1/4]`` of its
spectrum along each frequency axis (``hann_half_plane``): a spectrum that already exists
(the residual's, see ``residuals``) is windowed without going back to the pixels.
"""

from __future__ import annotations

import dataclasses
import functools

import torch
from torch import Tensor

from ..errors import FreqprobeError
from ..suggest import did_you_mean

WINDOWS = ("hann", "none")
#: Power floor before any logarithm (-120 dB, far below 8-bit quantisation noise at about
#: -59 dB), so constant images give finite numbers.
POWER_FLOOR = 1e-12


def check_window(window: str) -> None:
    """Raise a one-line ``FreqprobeError`` for an unknown window name."""
    if window not in WINDOWS:
        raise FreqprobeError(f"unknown window {window!r}{did_you_mean(window, WINDOWS)}; choose one of {', '.join(WINDOWS)}")


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
    """Half-plane periodograms of real images (the plain reference formulation).

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


@dataclasses.dataclass(frozen=True)
class Periodogram:
    """The window of one image size, window name and device, scaled for ``power_in_place``.

    Attributes:
        window: ``(H, W)`` float32, ``w / sqrt(sum(w**2))`` (computed in float64, then rounded).
        window64: the same in float64, for float64 images.
        norm: ``sum(w**2)`` of the unscaled window.
    """

    height: int
    width: int
    name: str
    window: Tensor
    window64: Tensor
    norm: float

    def spectrum(self, x: Tensor, window: Tensor | None = None, out: Tensor | None = None) -> Tensor:
        """Half-plane ``FFT((x - m) * w) / sqrt(sum(w**2))``, complex ``(..., H, W // 2 + 1)``.

        ``x`` (float ``(..., H, W)``) is overwritten: its mean is subtracted and the window
        applied in place, so nothing image-sized is allocated but the FFT's output (none
        with ``out``). ``window`` replaces ``self.window`` (e.g. pre-multiplied by a scale).
        """
        x.sub_(x.mean((-2, -1), keepdim=True))
        if window is None:
            window = self.window64 if x.dtype == torch.float64 else self.window
        x.mul_(window)
        return torch.fft.rfft2(x) if out is None else torch.fft.rfft2(x, out=out)


@functools.lru_cache(maxsize=32)
def periodogram(height: int, width: int, window: str, device: torch.device | str = "cpu") -> Periodogram:
    """The cached ``Periodogram`` for this size, window and device (treat its tensors as read-only)."""
    check_window(window)
    if window == "none":
        w = torch.ones(height, width, dtype=torch.float64, device=device)
    else:
        wy = torch.hann_window(height, periodic=True, dtype=torch.float64, device=device)
        wx = torch.hann_window(width, periodic=True, dtype=torch.float64, device=device)
        w = wy[:, None] * wx[None, :]
    norm = float(w.square().sum())
    scaled = w / norm**0.5
    return Periodogram(height, width, window, scaled.float(), scaled, norm)


def power_in_place(spectrum: Tensor, out: Tensor | None = None) -> Tensor:
    """``|spectrum|**2`` of a complex tensor as a real one (into ``out`` if given); the input is overwritten."""
    parts = torch.view_as_real(spectrum)
    parts.square_()
    if out is None:
        return torch.add(parts[..., 0], parts[..., 1])
    return torch.add(parts[..., 0], parts[..., 1], out=out)


def hann_half_plane(spectrum: Tensor, width: int, scratch: Tensor | None = None) -> Tensor:
    """Turn the half-plane spectrum of ``image`` into that of ``hann * image``, in place.

    Multiplying by the periodic Hann window ``sin**2(pi n / N)`` along an axis is the
    circular convolution of the spectrum with ``[-1/4, 1/2, -1/4]`` along that axis. Along
    rows (``ky``) the half plane is circular as it is; along columns the missing neighbours
    of column 0 and of the last column are the conjugates of the mirrored frequencies
    (``X(ky, -1) = conj X(-ky, 1)``, ``X(ky, W//2 + 1) = conj X(-ky, W - W//2 - 1)``).

    Args:
        spectrum: complex ``(..., H, W // 2 + 1)``, overwritten with the result (returned).
        width: the image width ``W``.
        scratch: optional real tensor of ``view_as_real(spectrum)``'s shape, for the
            intermediate result.
    """
    height = spectrum.shape[-2]
    parts = torch.view_as_real(spectrum)  # (..., H, K, 2)
    rows = torch.empty_like(parts) if scratch is None else scratch
    # Along ky (circular): 1/2 X[ky] - 1/4 (X[ky - 1] + X[ky + 1])
    torch.mul(parts, 0.5, out=rows)
    rows[..., 1:, :, :].sub_(parts[..., :-1, :, :], alpha=0.25)
    rows[..., :1, :, :].sub_(parts[..., -1:, :, :], alpha=0.25)
    rows[..., :-1, :, :].sub_(parts[..., 1:, :, :], alpha=0.25)
    rows[..., -1:, :, :].sub_(parts[..., :1, :, :], alpha=0.25)
    # Along kx, back into the input, with the Hermitian neighbours at both ends.
    torch.mul(rows, 0.5, out=parts)
    parts[..., 1:, :].sub_(rows[..., :-1, :], alpha=0.25)
    parts[..., :-1, :].sub_(rows[..., 1:, :], alpha=0.25)
    mirror = (-torch.arange(height, device=spectrum.device)) % height
    for column, neighbour in ((0, 1), (-1, width - width // 2 - 1)):
        conjugate = rows[..., mirror, neighbour, :]
        parts[..., column, 0].sub_(conjugate[..., 0], alpha=0.25)
        parts[..., column, 1].add_(conjugate[..., 1], alpha=0.25)
    return spectrum
