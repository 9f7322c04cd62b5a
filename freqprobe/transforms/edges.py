"""Edge maps of the BT.601 luminance: ``edges:canny`` and ``edges:sobel``.

Both work on the luminance (``spatial.luminance``) and replicate the result to every
channel of the input. Gradients are kornia's **unnormalised** 3x3 Sobel with a replicated
border, the same as ``cv2.Sobel(ksize=3, borderType=cv2.BORDER_REPLICATE)`` on the
luminance: a ramp of slope ``s`` per pixel gives ``8 |s|``, a unit step 4 (so the Sobel
output leaves ``[0, 1]``; it is not clipped).

``edges:canny,low=0.1,high=0.2,sigma=1`` blurs the luminance with a Gaussian of
``sigma`` pixels on a ``2 ceil(2 sigma) + 1`` kernel (5x5 at ``sigma=1``, kornia's default;
mirror border, as kornia's ``reflect``; ``sigma=0`` skips the blur, as ``cv2.Canny``
does), then runs ``kornia.filters.canny``: the thresholds compare, strictly, with the
unnormalised Sobel magnitude above (``cv2.Canny(L2gradient=True)`` on ``uint8`` takes
``255 *`` these values). The output is the binary edge map, float 0 or 1.
"""

from __future__ import annotations

import dataclasses
import math

import kornia
import numpy as np
import scipy.ndimage
import torch
from torch import Tensor

from .base import Transform, register
from .spatial import gaussian_blur, luminance
from ..suggest import did_you_mean

METHODS = ("canny", "sobel")
_CANNY_DEFAULTS = {"low": 0.1, "high": 0.2, "sigma": 1.0}


def sobel_magnitude(gray: Tensor) -> Tensor:
    """``sqrt(gx**2 + gy**2)`` of the unnormalised 3x3 Sobel on ``(N, 1, H, W)``, replicated border."""
    gradient = kornia.filters.spatial_gradient(gray, mode="sobel", normalized=False)
    return torch.sqrt(gradient[:, :, 0] ** 2 + gradient[:, :, 1] ** 2)


def hysteresis(marked: Tensor) -> Tensor:
    """Keep weak edge pixels (0.5) 8-connected to a strong one (1); returns 0/1.

    The same result as kornia's iterative hysteresis, computed as connected components
    (one ``scipy.ndimage.label`` call over the whole batch, connectivity within each
    image), which takes one pass instead of one convolution per pixel of chain length.
    """
    candidates = (marked > 0).squeeze(1).cpu().numpy()
    strong = (marked == 1).squeeze(1).cpu().numpy()
    within_image = np.zeros((3, 3, 3), dtype=bool)
    within_image[1] = True
    labels, count = scipy.ndimage.label(candidates, structure=within_image)
    touches_strong = np.zeros(count + 1, dtype=bool)
    touches_strong[labels[strong]] = True
    touches_strong[0] = False
    kept = torch.from_numpy(touches_strong[labels]).to(marked.device)
    return kept[:, None].to(marked.dtype)


@register
@dataclasses.dataclass(frozen=True, repr=False)
class Edges(Transform):
    """Binary Canny edges or Sobel gradient magnitude of the luminance, on every channel."""

    name = "edges"
    summary = "edge map of the luminance: canny (binary) or sobel (gradient magnitude)"
    positional = ("method",)
    method: str = dataclasses.field(kw_only=True)
    low: float = _CANNY_DEFAULTS["low"]
    high: float = _CANNY_DEFAULTS["high"]
    sigma: float = _CANNY_DEFAULTS["sigma"]

    def _validate(self) -> None:
        if self.method not in METHODS:
            raise self.fail(f"unknown method {self.method!r}{did_you_mean(self.method, METHODS)}; choose one of {', '.join(METHODS)}")
        if self.method == "sobel":
            changed = [f"{key}={getattr(self, key):g}" for key, d in _CANNY_DEFAULTS.items() if getattr(self, key) != d]
            if changed:
                raise self.fail(f"low=, high=, sigma= are for edges:canny only, got {', '.join(changed)}")
        if not 0 < self.low < self.high:
            raise self.fail(f"needs 0 < low < high, got low={self.low:g}, high={self.high:g}")
        if self.sigma < 0:
            raise self.fail(f"sigma={self.sigma:g} must be >= 0 pixels (0: no blur)")

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        gray = luminance(x)
        if self.method == "sobel":
            out = sobel_magnitude(gray)
        else:
            if self.sigma > 0:
                gray = gaussian_blur(gray, self.sigma, math.ceil(2 * self.sigma))
            # kernel_size=1: kornia skips its own blur, done above with any sigma
            _, marked = kornia.filters.canny(
                gray, self.low, self.high, kernel_size=1, sigma=(1.0, 1.0), hysteresis=False
            )
            out = hysteresis(marked)
        return out.expand_as(x).contiguous()
