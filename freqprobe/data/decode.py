"""Image files to uint8 RGB arrays through PIL, with one rule per pixel mode.

- ``RGB``: as stored. ``1`` and ``L`` (and palette without transparency, ``CMYK``,
  ``YCbCr`` …): PIL's conversion to RGB; grayscale is replicated to 3 channels.
- ``I;16*`` and ``I`` (16-bit grayscale): scaled to 8 bits as ``v >> 8``, the rule Pillow
  itself applies when it decodes 16-bit RGB, so all 16-bit files follow one rule: every
  8-bit level receives 256 16-bit values, and an 8-bit value stored as 16 bits (``257 * k``)
  comes back as ``k``. Values outside ``[0, 65535]`` are an error.
- ``F`` (32-bit float): values must lie in ``[0, 1]`` (the rule for float arrays) and are
  rounded as ``rint(v * 255)``.
- Modes with alpha (``LA``, ``RGBA``, ``PA``, palette with transparency): the alpha channel
  is dropped (the caller warns once per load).

The first frame of a multi-frame file is read. EXIF orientation is not applied: pixels are
taken as stored. Truncated files raise (``ImageFile.LOAD_TRUNCATED_IMAGES`` is left off),
and JPEG draft mode (a DCT-domain downscale) is never used.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import DataError

IMAGE_EXTENSIONS = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@contextmanager
def _readable(path: Path) -> Iterator[Image.Image]:
    """Open ``path`` with PIL; any failure becomes a one-line ``DataError`` naming the file."""
    try:
        with Image.open(path) as image:
            yield image
    except DataError:
        raise
    except Image.DecompressionBombError:
        raise DataError(_bomb_message(path)) from None
    except Exception as error:  # PIL raises many types on malformed files
        raise DataError(f"{path}: cannot read image ({_one_line(error)})") from None


def _bomb_message(path: Path) -> str:
    return (
        f"{path}: more pixels than PIL.Image.MAX_IMAGE_PIXELS ({Image.MAX_IMAGE_PIXELS}), "
        "a possible decompression bomb; raise that limit if the file is trusted"
    )


def read_image_size(path: Path) -> tuple[int, int]:
    """``(H, W)`` from the file header, without decoding pixels.

    Anything over ``PIL.Image.MAX_IMAGE_PIXELS`` is refused (PIL itself only warns below
    twice that limit). Not thread-safe: it changes the warning filters while it reads.

    Raises:
        DataError: unreadable header, or a possible decompression bomb.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below instead
        with _readable(path) as image:
            width, height = image.size
    if Image.MAX_IMAGE_PIXELS is not None and width * height > Image.MAX_IMAGE_PIXELS:
        raise DataError(_bomb_message(path))
    return height, width


def decode_image(path: Path) -> tuple[np.ndarray, bool]:
    """Decode one file to uint8 ``(H, W, 3)`` RGB; also say whether alpha was dropped.

    Raises:
        DataError: corrupt or truncated file, or pixel values out of range.
    """
    with _readable(path) as image:
        image.load()
        return to_rgb(image, str(path))


def to_rgb(image: Image.Image, name: str) -> tuple[np.ndarray, bool]:
    """A loaded PIL image as uint8 ``(H, W, 3)`` RGB, and whether alpha was dropped."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    has_alpha = "A" in image.getbands() or "a" in image.getbands()
    if mode == "RGB":
        return np.asarray(image), False
    if mode in _SIXTEEN_BIT_MODES or mode == "F":
        values = np.asarray(image)
        low, high = (0, 65535) if mode != "F" else (0.0, 1.0)
        if values.size and (not np.isfinite(values).all() or values.min() < low or values.max() > high):
            span = f"[{values.min()}, {values.max()}]"
            raise DataError(f"{name}: {mode} pixel values span {span}, expected [{low}, {high}]")
        if mode == "F":
            gray = np.rint(values * 255.0).astype(np.uint8)
        else:
            gray = (values.astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2), False
    rgb = image.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(rgb)[:, :, :3], has_alpha
