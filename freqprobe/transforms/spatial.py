"""Spatial-domain transforms: patch shuffling, grayscale, Gaussian blur, noise and JPEG.

``patchshuffle:K`` destroys the layout beyond a patch while keeping every pixel;
``grayscale`` drops colour; ``blur:SIGMA`` and ``noise:STD`` are the classic low-pass and
broadband perturbations in pixel units; ``jpeg:Q`` is the real codec. Random transforms
draw from ``keyed_random`` by ``(seed, image index)``, so a batch split changes nothing.
Outputs are not clipped (noise leaves ``[0, 1]``), except ``jpeg``, whose 8-bit codec
needs ``[0, 1]`` input.
"""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Transform, register
from .keyed_random import keyed_normal, keyed_permutation

#: ITU-R BT.601 luma weights for (R, G, B), as OpenCV's and kornia's RGB-to-gray use.
BT601 = (0.299, 0.587, 0.114)
#: The largest blur: its kernel (8 001 taps) already flattens any image a GPU holds.
MAX_BLUR_SIGMA = 1000.0
#: Gaussian kernels reach ``truncate * sigma`` pixels, as ``scipy.ndimage.gaussian_filter``.
BLUR_TRUNCATE = 4.0


def luminance(x: Tensor) -> Tensor:
    """BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` of ``(N, 3, H, W)``; ``(N, 1, H, W)`` as is.

    Returns ``(N, 1, H, W)``. Raises ``ValueError`` for other channel counts.
    """
    channels = x.shape[1]
    if channels == 1:
        return x
    if channels != 3:
        raise ValueError(f"luminance needs 1 or 3 channels (RGB), got {channels}")
    weights = torch.tensor(BT601, device=x.device, dtype=x.dtype)
    return torch.einsum("nchw,c->nhw", x, weights)[:, None]


def mirror_index(length: int, radius: int, device: torch.device | str = "cpu") -> Tensor:
    """Indices of ``range(length)`` padded by ``radius`` with mirror (``d c b | a b c d | c b a``).

    The edge sample is not repeated (scipy's ``mirror``, torch's and OpenCV's reflect-101), and
    the reflection repeats, so any radius works on any length.
    """
    index = torch.arange(-radius, length + radius, device=device)
    if length == 1:
        return torch.zeros_like(index)
    period = 2 * (length - 1)
    index = index.remainder(period)
    return torch.where(index >= length, period - index, index)


def gaussian_kernel(sigma: float, radius: int) -> Tensor:
    """Normalised 1-D Gaussian ``exp(-t**2 / (2 sigma**2))`` for ``t`` in ``[-radius, radius]`` (float64)."""
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def gaussian_blur(x: Tensor, sigma: float, radius: int) -> Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)`` with mirror padding, per channel."""
    n, c, h, w = x.shape
    kernel = gaussian_kernel(sigma, radius).to(device=x.device, dtype=x.dtype)
    flat = x.reshape(n * c, 1, h, w)
    flat = F.conv2d(flat.index_select(3, mirror_index(w, radius, x.device)), kernel.view(1, 1, 1, -1))
    flat = F.conv2d(flat.index_select(2, mirror_index(h, radius, x.device)), kernel.view(1, 1, -1, 1))
    return flat.reshape(n, c, h, w)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class PatchShuffle(Transform):
    """Cut each image into a ``K x K`` grid of equal patches and permute them, per image.

    With patches numbered row-major, output patch ``j`` is input patch ``order[j]``, where
    ``order = keyed_permutation(seed, index, K * K, "patchshuffle")``.
    """

    name = "patchshuffle"
    summary = "permute the patches of a K x K grid, per image (keeps every pixel, breaks layout)"
    positional = ("grid",)
    grid: int = dataclasses.field(kw_only=True)
    seed: int = 0

    def _validate(self) -> None:
        if self.grid < 2:
            raise self.fail(f"K={self.grid} must be >= 2 (K=1 keeps the image as it is)")

    def check_size(self, height: int, width: int) -> None:
        if height % self.grid or width % self.grid:
            common = math.gcd(height, width)
            valid = ", ".join(str(k) for k in range(2, common + 1) if common % k == 0) or "none"
            raise self.fail(f"K={self.grid} does not divide {height}x{width} images; valid K: {valid}")

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        n, c, h, w = x.shape
        k = self.grid
        patches = x.reshape(n, c, k, h // k, k, w // k).permute(0, 2, 4, 1, 3, 5).reshape(n, k * k, -1)
        order = keyed_permutation(self.seed, index, k * k, self.name)
        shuffled = torch.gather(patches, 1, order[:, :, None].expand_as(patches))
        return shuffled.reshape(n, k, k, c, h // k, w // k).permute(0, 3, 1, 4, 2, 5).reshape(n, c, h, w)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class Grayscale(Transform):
    """BT.601 luma replicated to every channel (1- or 3-channel input)."""

    name = "grayscale"
    summary = "BT.601 luma 0.299 R + 0.587 G + 0.114 B, replicated to each channel"

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        return luminance(x).expand_as(x).contiguous()


@register
@dataclasses.dataclass(frozen=True, repr=False)
class Blur(Transform):
    """Gaussian blur of ``sigma`` pixels, kernel radius ``int(4 sigma + 0.5)``, mirror border.

    The same as ``scipy.ndimage.gaussian_filter(mode="mirror")`` with its default truncate.
    """

    name = "blur"
    summary = "Gaussian blur, sigma in pixels (mirror border, truncated at 4 sigma)"
    positional = ("sigma",)
    sigma: float = dataclasses.field(kw_only=True)

    def _validate(self) -> None:
        if not 0 < self.sigma <= MAX_BLUR_SIGMA:  # a larger one blurs any image to its mean; NaN fails too
            raise self.fail(f"sigma={self.sigma} must be in (0, {MAX_BLUR_SIGMA}] pixels")

    @property
    def radius(self) -> int:
        return int(BLUR_TRUNCATE * self.sigma + 0.5)

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        return gaussian_blur(x, self.sigma, self.radius)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class Noise(Transform):
    """Additive Gaussian noise of standard deviation ``std`` (in ``[0, 1]`` units), not clipped."""

    name = "noise"
    summary = "add Gaussian noise of this std (image units, not clipped), per image"
    positional = ("std",)
    std: float = dataclasses.field(kw_only=True)
    seed: int = 0

    def _validate(self) -> None:
        if not 0 < self.std < math.inf:  # infinite noise leaves no finite pixel to classify
            raise self.fail(f"std={self.std} must be a finite number > 0")

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        noise = keyed_normal(self.seed, index, tuple(x.shape[1:]), self.name)
        return x + self.std * noise.to(x.dtype)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class Jpeg(Transform):
    """JPEG re-encoding with OpenCV (libjpeg, 4:2:0 chroma subsampling for colour).

    The one transform that clips: the codec is 8-bit, so the input is clipped to ``[0, 1]``
    and rounded to ``uint8`` first; the output is the decoded ``uint8 / 255``. Channels are
    RGB (1-channel images are coded as grayscale JPEG). The codec runs per image, in threads.
    """

    name = "jpeg"
    summary = "JPEG re-encode at quality Q in 1..100 (input clipped to [0, 1], 8-bit)"
    positional = ("quality",)
    quality: int = dataclasses.field(kw_only=True)

    def _validate(self) -> None:
        if not 1 <= self.quality <= 100:
            raise self.fail(f"Q={self.quality} is outside 1..100")

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        channels = x.shape[1]
        if channels not in (1, 3):
            raise ValueError(f"{self}: JPEG needs 1 or 3 channels (RGB), got {channels}")
        pixels = (x.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        with ThreadPoolExecutor() as pool:  # OpenCV releases the GIL while coding
            decoded = list(pool.map(self._roundtrip, pixels))
        out = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2)
        return out.to(device=x.device, dtype=x.dtype) / 255

    def _roundtrip(self, image: np.ndarray) -> np.ndarray:
        """Encode and decode one ``(H, W, C)`` uint8 RGB or gray image."""
        color = image.shape[2] == 3
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if color else image
        ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError(f"{self}: OpenCV failed to encode a {image.shape} image")
        if color:
            return cv2.cvtColor(cv2.imdecode(buffer, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)[:, :, None]
