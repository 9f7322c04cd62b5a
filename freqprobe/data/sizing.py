"""The size policy: how images of one source are brought to one ``(H, W)``.

Resampling changes an image's spectrum, and spectra are what freqprobe measures, so no
policy here ever interpolates silently:

- ``size=None``: every image must already have the same size (else a ``DataError`` listing
  the sizes found).
- ``crop="center"``: the central ``H x W`` window; an odd excess drops the extra row or
  column at the bottom or right. No interpolation.
- ``crop="random"``: a window at an offset drawn from a hash of ``(seed, image name)``, so
  the same file gets the same window in every load and in every folder it appears in
  (paired sets stay paired). No interpolation.
- ``crop="resize"``: area averaging (``cv2.INTER_AREA``: each output pixel is the mean of
  the input area it covers, which is an anti-aliasing box filter) by the factor that makes
  the image just cover ``H x W`` (the short side becomes ``S`` for a square size), with the
  other side rounded to the nearest pixel, then the center crop above. Images are never
  upsampled: upsampling would only invent a blurred spectrum.

Under every policy an image smaller than ``H x W`` is an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import DataError

#: How to give sets one size, in every "sizes differ" error (Python and command line alike).
CROP_HINT = "crop them to one size with size=S or (H, W) (command line: --size S or HxW)"

CROP_POLICIES = ("center", "random", "resize")


@dataclass(frozen=True)
class SizePolicy:
    """A target size (or none) and how images reach it.

    Args:
        size: ``(H, W)``, or ``None`` to require images that already share one size.
        crop: ``"center"``, ``"random"`` or ``"resize"`` (see the module docstring).
        seed: seed of the random crop offsets.
    """

    size: tuple[int, int] | None
    crop: str = "center"
    seed: int = 0

    @classmethod
    def parse(cls, size: int | Sequence[int] | None, crop: str, seed: int) -> SizePolicy:
        """Validate ``load_images``'s arguments; an int ``S`` means ``(S, S)``."""
        if crop not in CROP_POLICIES:
            raise DataError(f"crop must be one of {', '.join(CROP_POLICIES)}, got {crop!r}")
        if not _is_int(seed):
            raise DataError(f"seed must be an int, got {seed!r}")
        if size is None:
            return cls(None, crop, seed)
        try:
            pair: tuple[object, ...] = (size, size) if _is_int(size) else tuple(size)
        except TypeError:  # not iterable: a float, say
            pair = ()
        if len(pair) != 2 or not all(_is_int(s) and s > 0 for s in pair):
            raise DataError(f"size must be a positive int S or a pair (H, W) of them, got {size!r}")
        return cls((int(pair[0]), int(pair[1])), crop, int(seed))

    def describe(self) -> dict[str, object]:
        """The settings that change the output pixels (part of the cache key)."""
        if self.size is None:
            return {"size": None}
        return {"size": list(self.size), "crop": self.crop, "seed": self.seed if self.crop == "random" else None}

    def output_size(self, files_by_size: Mapping[tuple[int, int], Sequence[str]], source: str) -> tuple[int, int]:
        """The common output ``(H, W)`` for images grouped by their ``(H, W)``.

        ``source`` (a folder, a file, ``"array"``) and the image names make the messages.

        Raises:
            DataError: sizes differ under ``size=None``, or an image is smaller than ``size``.
        """
        if self.size is None:
            if len(files_by_size) > 1:
                groups = sorted(files_by_size.items(), key=lambda item: -len(item[1]))
                listing = ", ".join(
                    f"{h}x{w} ({len(files)} {'file' if len(files) == 1 else 'files'}, e.g. {', '.join(files[:2])})"
                    for (h, w), files in groups
                )
                raise DataError(f"{source}: images differ in size: {listing}; {CROP_HINT}")
            return next(iter(files_by_size))
        height, width = self.size
        too_small = [(hw, f) for hw, files in files_by_size.items() if hw[0] < height or hw[1] < width for f in files]
        if too_small:
            (h, w), first = too_small[0]
            more = f" ({len(too_small)} images are smaller)" if len(too_small) > 1 else ""
            never = "; resize never upsamples" if self.crop == "resize" else ""
            raise DataError(f"{source}: {first} is {h}x{w}, smaller than size {height}x{width}{more}{never}")
        return self.size

    def shared_window(self, image_size: tuple[int, int]) -> tuple[slice, slice] | None:
        """The ``(rows, columns)`` that ``fit`` keeps of every image of ``image_size``.

        ``None`` when the window depends on the image: a random crop, or a resize.
        """
        h, w = image_size
        if self.size is None:
            return slice(0, h), slice(0, w)
        height, width = self.size
        if (h, w) != (height, width) and self.crop != "center":
            return None
        top, left = (h - height) // 2, (w - width) // 2
        return slice(top, top + height), slice(left, left + width)

    def fit(self, image: np.ndarray, name: str) -> np.ndarray:
        """Bring one ``(h, w, 3)`` uint8 image to the output size (a view where it can be).

        ``name`` keys the random crop. The caller has checked that the image is large enough.
        """
        if self.size is None:
            return image
        height, width = self.size
        h, w = image.shape[:2]
        if self.crop == "resize" and (h, w) != (height, width):
            # Scale so that both sides cover the target; the side that binds is exact.
            if height * w >= width * h:
                new_h, new_w = height, (w * height + h // 2) // h
            else:
                new_h, new_w = (h * width + w // 2) // w, width
            if (new_h, new_w) != (h, w):
                image = cv2.resize(np.ascontiguousarray(image), (new_w, new_h), interpolation=cv2.INTER_AREA)
                h, w = new_h, new_w
        if self.crop == "random":
            digest = hashlib.blake2b(f"{self.seed}\0{name}".encode(), digest_size=16).digest()
            top = int.from_bytes(digest[:8], "little") % (h - height + 1)
            left = int.from_bytes(digest[8:], "little") % (w - width + 1)
        else:
            top, left = (h - height) // 2, (w - width) // 2
        return image[top : top + height, left : left + width]


def _is_int(value: object) -> bool:
    """A Python or numpy integer, but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
