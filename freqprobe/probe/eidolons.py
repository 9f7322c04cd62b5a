"""Eidolons: Koenderink et al.'s partially coherent disarray of an image's scale space.

Koenderink, Valsecchi, van Doorn, Wagemans & Gegenfurtner ("Eidolons: Novel stimuli for
vision research", JoV 2017) split an image into difference-of-Gaussian layers, one per
scale ``σ_i = 2^(i/2) / √2`` up to a quarter of the image size, and move every layer's
pixels by its own displacement field times the ``reach``. A field is the sum of

- a *coherent* part, shared across scales: the sum of blurred noise planes of all coarser
  scales (plane ``k`` blurred at ``σ_k`` and scaled by ``σ_k / σ_max``), so that large
  receptive fields drag the small ones along; and
- an *incoherent* part, blurred noise at the ``grain`` (pixels), independent per scale,
  times the ``coherence`` parameter — as the eidolon factory's partially coherent
  disarray (``PartiallyCoherentDisarray``, its ``degree``) combines them, which is how
  model-vs-human's eidolon I, II and III sets (coherence 1.0, 0.3, 0.0) were made.

Noise planes are normalised as the factory does (peak magnitude 127.5, clipped at 127).
This is our batched torch version of the published algorithm; it departs from the factory's
Python code in ways documented in ``docs/generative.md`` (finest detail kept, zero-mean
fields, rounded displacements, periodic 2-D blurs, no resizing to 256 pixels).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..transforms.keyed_random import keyed_normal

#: The finest scale and the step between scales, as the eidolon factory sets them.
MIN_SIGMA, SIGMA_FACTOR = 1 / math.sqrt(2), math.sqrt(2)
#: Noise planes: white noise scaled to this peak magnitude, clipped at NOISE_CLIP.
NOISE_PEAK, NOISE_CLIP = 127.5, 127.0


def scale_levels(size: int) -> Tensor:
    """The factory's scales for an image of ``size`` pixels (its longer side):
    ``ceil(2 log2(size / 4))`` levels from ``1/√2``, a factor ``√2`` apart.

    >>> [round(sigma, 3) for sigma in scale_levels(256)[[0, 1, -1]].tolist()]
    [0.707, 1.0, 32.0]
    """
    count = max(1, math.ceil(2 * math.log2(size / 4)))
    return MIN_SIGMA * SIGMA_FACTOR ** torch.arange(count, dtype=torch.float64)


def embed(x: Tensor) -> tuple[Tensor, tuple[int, int]]:
    """Mirror ``(..., H, W)`` into a plane of power-of-two sides of at least 1.5 times its
    own (the factory's guard against the periodic blur's wrap-around); returns the plane
    and the offset of the image in it."""
    height, width = x.shape[-2:]
    big_h, big_w = (1 << math.ceil(math.log2(1.5 * side)) for side in (height, width))
    top, left = (big_h - height) // 2, (big_w - width) // 2
    rows = torch.cat([x[..., :top, :].flip(-2), x, x[..., height - (big_h - height - top):, :].flip(-2)], dim=-2)
    plane = torch.cat([rows[..., :left].flip(-1), rows, rows[..., width - (big_w - width - left):].flip(-1)], dim=-1)
    return plane, (top, left)


def gaussian_gain(shape: tuple[int, int], sigma: float, device: torch.device | None = None) -> Tensor:
    """The transfer function of a Gaussian blur on the ``rfft2`` grid of ``shape``."""
    fy = torch.fft.fftfreq(shape[0], device=device, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(shape[1], device=device, dtype=torch.float64)[None, :]
    return torch.exp(-2 * math.pi**2 * sigma**2 * (fy**2 + fx**2)).float()


def difference_of_gaussians(plane: Tensor, sigmas: Tensor) -> list[Tensor]:
    """The layers of ``plane`` ``(N, H, W)``, finest first: ``plane − L(σ_1)``, then
    ``L(σ_i) − L(σ_{i+1})``, and the coarsest blur ``L(σ_last)``; they sum to the plane.
    ``L`` is the periodic Gaussian blur (through the Fourier transform). The factory's
    finest layer is ``L(σ_0) − L(σ_1)``: it leaves out the detail below ``σ_0``."""
    shape = tuple(plane.shape[-2:])
    spectrum = torch.fft.rfft2(plane)
    blurred = [plane] + [torch.fft.irfft2(spectrum * gaussian_gain(shape, float(sigma), plane.device).to(plane.dtype),
                                          s=shape) for sigma in sigmas[1:]]  # fmt: skip
    return [fine - coarse for fine, coarse in zip(blurred, blurred[1:])] + [blurred[-1]]


def noise_planes(seed: int, index: Tensor, count: int, height: int, width: int, stream: str) -> Tensor:
    """``(N, count, H, W)`` white-noise planes per image, scaled to the factory's peak."""
    noise = keyed_normal(seed, index, (count, height, width), stream)
    peak = noise.abs().amax(dim=(-2, -1), keepdim=True)
    return (noise * (NOISE_PEAK / peak)).clamp(-NOISE_CLIP, NOISE_CLIP)


def displacement_fields(shape: tuple[int, int], coherence: float, grain: float, index: Tensor, seed: int,
                        size: int | None = None) -> Tensor:  # fmt: skip
    """``(N, L, 2, H, W)`` displacement per unit of reach (rows, columns) of every scale
    level, finest first, on the embedding plane ``shape``; ``size`` is the image's longer
    side (default: the plane's). Blurs, sums and zero means are taken in the Fourier
    domain (the DC term set to 0), one inverse transform per level."""
    height, width = shape
    sigmas = scale_levels(size or max(shape))
    max_sigma = (size or max(shape)) / 4
    grain_gain = gaussian_gain(shape, grain, index.device)
    coherent = torch.zeros(len(index), 2, height, width // 2 + 1, dtype=torch.complex64, device=index.device)
    fields = []
    for level in reversed(range(len(sigmas))):  # coarse to fine: each level adds its plane to the coarser ones
        spectra = torch.fft.rfft2(noise_planes(seed, index, 4, height, width, f"eidolon-{level}"))
        spectra[..., 0, 0] = 0  # zero mean
        sigma = float(sigmas[level])
        coherent = coherent + spectra[:, :2] * (gaussian_gain(shape, sigma, index.device) * (sigma / max_sigma))
        field = coherent + spectra[:, 2:] * (coherence * grain_gain) if coherence else coherent
        fields.append(torch.fft.irfft2(field, s=shape))
    return torch.stack(fields[::-1], dim=1)


def displace(plane: Tensor, field: Tensor) -> Tensor:
    """``plane`` ``(N, H, W)`` read at ``position + field`` ``(N, 2, H, W)``, rounded to the
    nearest pixel and clamped to the plane (the factory clips, then truncates)."""
    n, height, width = plane.shape
    rows = torch.arange(height, device=plane.device).view(1, -1, 1)
    cols = torch.arange(width, device=plane.device).view(1, 1, -1)
    source_rows = (rows + field[:, 0]).round().clamp(0, height - 1).long()
    source_cols = (cols + field[:, 1]).round().clamp(0, width - 1).long()
    flat = (source_rows * width + source_cols).view(n, -1)
    return plane.reshape(n, -1).gather(1, flat).view(n, height, width)


def partially_coherent_disarray(grey: Tensor, reach: float, coherence: float, grain: float, index: Tensor,
                                seed: int) -> Tensor:  # fmt: skip
    """The eidolon of grey images ``(N, H, W)`` (values in [0, 1], not clipped here).

    The image is the sum of its difference-of-Gaussian layers (the finest layer also
    holds the detail below the finest scale, so reach 0 gives the image back); each layer
    is displaced by ``reach`` times its field, and the displaced layers are summed.
    """
    height, width = grey.shape[-2:]
    plane, (top, left) = embed(grey)
    sigmas = scale_levels(max(height, width))
    fields = displacement_fields(tuple(plane.shape[-2:]), coherence, grain, index, seed, max(height, width))
    out = torch.zeros_like(plane)
    for level, layer in enumerate(difference_of_gaussians(plane, sigmas)):
        out = out + displace(layer, reach * fields[:, level].to(plane.dtype))
    return out[..., top : top + height, left : left + width]
