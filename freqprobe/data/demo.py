"""The embedded demo sets: real photo crops, and the same crops through a known "generator".

No download: the photos are the colour images shipped inside scikit-image. The generator
mimics the last layer of a GAN or diffusion decoder: the crop is area-downsampled 2x, then
upsampled by a stride-2 transposed convolution whose two phases have slightly unequal gain
(kernel taps ``[0.245, 0.755, 0.745, 0.255]`` per axis). Its spectral fingerprint is therefore
known exactly: (1) power above 0.25 cycles/pixel is only the attenuated spectral replica of
the half-resolution image, and (2) the phase imbalance (0.99 vs 1.01 per axis: a gain of
-0.02 at Nyquist) lets the replica of the image's strong low frequencies through, i.e. peaks
at ``(fy, fx) = (0, 0.5), (0.5, 0)`` and, weaker, ``(0.5, 0.5)`` cycles/pixel (on a flat image:
1-pixel lines of +-1 % along each axis; the diagonal term is 1e-4 and rounds away).
Real and generated images share names (``crop_00000`` ...), so splits keep pairs together.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import DataError
from .imageset import ImageSet

#: Colour photographs shipped with scikit-image (no download needed).
DEMO_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "retina.jpg",
)
#: The generator's transposed-convolution taps along each axis (phase gains 0.99 and 1.01).
UPSAMPLER_TAPS = (0.245, 0.755, 0.745, 0.255)


def demo_photos() -> list[np.ndarray]:
    """The shipped photos as uint8 ``(H, W, 3)`` arrays."""
    folder = resources.files("skimage") / "data"
    photos = []
    for name in DEMO_PHOTOS:
        with resources.as_file(folder / name) as path, Image.open(path) as image:
            photos.append(np.asarray(image.convert("RGB")))
    return photos


def random_crops(photos: list[np.ndarray], n: int, size: int, seed: int) -> torch.Tensor:
    """``n`` crops of ``size`` px: photo chosen uniformly, random position and mirror."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(photos), size=n)
    crops = np.empty((n, size, size, 3), dtype=np.uint8)
    for i, k in enumerate(which):
        photo = photos[k]
        top = rng.integers(0, photo.shape[0] - size + 1)
        left = rng.integers(0, photo.shape[1] - size + 1)
        crop = photo[top : top + size, left : left + size]
        crops[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    return torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()


def upsampling_generator(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 3, H, W)`` → the same through 2x area-down, then the transposed conv up."""
    x = images.float() / 255.0
    low = F.avg_pool2d(x, 2)
    taps = torch.tensor(UPSAMPLER_TAPS)
    kernel = (taps[:, None] * taps[None, :]).expand(3, 1, 4, 4).contiguous()
    # One replicated pixel on each side keeps the borders from fading.
    up = F.conv_transpose2d(F.pad(low, (1, 1, 1, 1), mode="replicate"), kernel, stride=2, padding=3, groups=3)
    return (up * 255.0).round().clamp(0, 255).to(torch.uint8)


def demo_sets(n: int = 1000, size: int = 64, seed: int = 0) -> tuple[ImageSet, ImageSet]:
    """``(real, generated)``: ``n`` photo crops of ``size`` px and their generated twins.

    Deterministic for a given ``(n, size, seed)``; ``size`` must be even.

    Example:
        >>> real, fake = demo_sets(n=8, size=32)
        >>> len(real), real.size, real.names[0] == fake.names[0]
        (8, (32, 32), True)
    """
    if n < 1 or size < 8 or size % 2:
        raise DataError(f"demo_sets needs n >= 1 and an even size >= 8, got n={n}, size={size}")
    real = random_crops(demo_photos(), n, size, seed)
    names = [f"crop_{i:05d}" for i in range(n)]
    origin = f"demo(n={n}, size={size}, seed={seed})"
    return ImageSet(real, names, f"{origin}:real"), ImageSet(upsampling_generator(real), names, f"{origin}:generated")
