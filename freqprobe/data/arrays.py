"""Image arrays (numpy, torch, ``.npy``, ``.npz``) read in chunks into uint8 NCHW.

Accepted dtypes follow the rules for image files (``freqprobe.data.decode``): uint8 as
stored; uint16 scaled as ``v >> 8``; float in ``[0, 1]`` rounded as ``rint(x * 255)`` (round-off
up to 1e-5 outside is clipped; NaN is refused).
Layouts: ``(N, H, W)`` (grayscale), ``(N, H, W, C)`` or ``(N, C, H, W)``. The channel axis
is whichever of axes 1 and 3 has size 1 or 3, or else size 4 (RGBA: alpha is dropped, and
the load warns); two candidates are ambiguous, an error. A 3-D array whose last axis is 1,
3 or 4 is refused as one image without its batch axis; one whose first axis is 3 or 4 is read
as grayscale images, with a warning (it may be one C×H×W image). Grayscale is replicated to 3
channels. Files are read a chunk at a time (``.npy`` through a memory map, ``.npz`` by
streaming its ``arr_0`` member), so a source is never held twice.
"""

from __future__ import annotations

import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError

ARRAY_EXTENSIONS = (".npy", ".npz")
_CHUNK_BYTES = 64 * 2**20
_CHANNELS = (1, 3)
_RGBA = 4
#: Float images may overshoot [0, 1] by float32 round-off (de-normalised tensors); clipped.
_FLOAT_SLACK = 1e-5
_LAYOUTS = "expected (N, H, W), (N, H, W, C) or (N, C, H, W)"
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError)


class ImageArray:
    """An array source, validated: its layout, and a reader of consecutive chunks along N.

    Args:
        label: how errors name the source (a path, or ``"array"``).
        shape: the stored shape.
        dtype: the stored numpy dtype (for torch tensors, the dtype they convert to).
        read_chunks: given a chunk length, yields consecutive numpy chunks along the first axis.

    Raises:
        DataError: a shape, layout or dtype that is not one of the accepted ones.
    """

    def __init__(
        self, label: str, shape: tuple[int, ...], dtype: np.dtype, read_chunks: Callable[[int], Iterator[np.ndarray]]
    ) -> None:
        self.label = label
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.read_chunks = read_chunks
        if len(self.shape) == 3:
            if self.shape[2] in (*_CHANNELS, _RGBA):
                raise DataError(
                    f"{self.label}: shape {self.shape} looks like one H×W×C image; add a batch axis (array[None])"
                )
            if self.shape[0] in (3, _RGBA) and min(self.shape[1:]) > _RGBA:
                warnings.warn(
                    f"{self.label}: shape {self.shape} read as {self.shape[0]} grayscale H×W images; for one "
                    "C×H×W image add a batch axis (array[None])",
                    stacklevel=4,
                )
            self.channel_axis: int | None = None
        elif len(self.shape) == 4:
            self.channel_axis = self._find_channel_axis()
        else:
            raise DataError(f"{self.label}: {_LAYOUTS}, got shape {self.shape}")
        if not (self.dtype.kind == "f" or (self.dtype.kind == "u" and self.dtype.itemsize <= 2)):
            raise DataError(f"{self.label}: expected uint8, uint16, or float in [0, 1], got dtype {self.dtype}")
        if self.count == 0 or 0 in self.image_size:
            raise DataError(f"{self.label}: no images (shape {self.shape})")

    def _find_channel_axis(self) -> int:
        """Axis 1 or 3 of a 4-D shape: the one of size 1 or 3, or else the one of size 4."""
        for sizes in (_CHANNELS, (_RGBA,)):
            candidates = [axis for axis in (1, 3) if self.shape[axis] in sizes]
            if len(candidates) == 1:
                return candidates[0]
            if candidates:
                break
        problem = "ambiguous" if candidates else "no"
        raise DataError(
            f"{self.label}: {problem} channel axis in shape {self.shape}; {_LAYOUTS} "
            "with C = 1 or 3 (or else 4, RGBA) on exactly one of axes 1 and 3"
        )

    @property
    def count(self) -> int:
        return self.shape[0]

    @property
    def image_size(self) -> tuple[int, int]:
        """``(H, W)``."""
        return (self.shape[1], self.shape[2]) if self.channel_axis in (None, 3) else (self.shape[2], self.shape[3])

    @property
    def has_alpha(self) -> bool:
        """Whether the images are RGBA (the alpha channel is dropped)."""
        return self.channel_axis is not None and self.shape[self.channel_axis] == _RGBA

    @property
    def mode(self) -> str:
        """How the stored pixels become uint8 RGB, in words (``freqprobe info`` prints it)."""
        if self.dtype.kind == "f":
            mode = "float array, rounded to uint8"
        elif self.dtype.itemsize == 2:
            mode = "uint16 array, scaled to uint8 (v >> 8)"
        else:
            mode = "uint8 array"
        return f"{mode}, alpha dropped" if self.has_alpha else mode

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start, images)`` with images as uint8 ``(n, H, W, 3)`` (possibly a view)."""
        per_image = max(1, int(np.prod(self.shape[1:])) * self.dtype.itemsize)
        start = 0
        for raw in self.read_chunks(max(1, _CHUNK_BYTES // per_image)):
            yield start, self._to_rgb_uint8(raw, start)
            start += raw.shape[0]

    def _to_rgb_uint8(self, raw: np.ndarray, start: int) -> np.ndarray:
        if self.channel_axis is None:
            raw = raw[..., None]
        elif self.channel_axis == 1:
            raw = raw.transpose(0, 2, 3, 1)
        raw = raw[..., :3]
        if self.dtype.kind == "u" and self.dtype.itemsize == 2:
            raw = (raw >> 8).astype(np.uint8)
        elif self.dtype.kind == "f":
            flat = raw.reshape(raw.shape[0], -1)
            finite = np.isfinite(flat).all(axis=1)
            if not finite.all():
                i = int(np.flatnonzero(~finite)[0])
                raise DataError(f"{self.label}: float image {start + i} contains NaN or infinite values")
            low, high = flat.min(axis=1), flat.max(axis=1)
            bad = (low < -_FLOAT_SLACK) | (high > 1 + _FLOAT_SLACK)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"{self.label}: float image {start + i} has values in [{low[i]}, {high[i]}], expected [0, 1]"
                )
            raw = np.rint(np.clip(raw, 0, 1) * np.float32(255)).astype(np.uint8)
        return np.broadcast_to(raw, (*raw.shape[:3], 3)) if raw.shape[3] == 1 else raw


def from_memory(array: np.ndarray | Tensor) -> ImageArray:
    """An in-memory numpy array or torch tensor (on any device) as an image source."""
    if isinstance(array, Tensor):
        tensor = array.detach()
        wide = tensor.dtype in (torch.float16, torch.bfloat16)  # numpy lacks bfloat16

        def read_tensor(n: int) -> Iterator[np.ndarray]:
            for start in range(0, tensor.shape[0], n):
                chunk = tensor[start : start + n].cpu()
                yield (chunk.float() if wide else chunk).numpy()

        dtype = np.dtype(np.float32) if wide else torch.empty(0, dtype=tensor.dtype).numpy().dtype
        return ImageArray("array", tuple(tensor.shape), dtype, read_tensor)
    return ImageArray("array", array.shape, array.dtype, _slicer(array))


def from_file(path: Path) -> ImageArray:
    """An ``.npz`` or ``.npy`` file (by its suffix, in any case) as an image source."""
    return from_npz(path) if path.suffix.lower() == ".npz" else from_npy(path)


def from_npy(path: Path) -> ImageArray:
    """A ``.npy`` file, memory-mapped."""
    with _reading(path, ".npy"):
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    return ImageArray(str(path), array.shape, array.dtype, _slicer(array))


def from_npz(path: Path) -> ImageArray:
    """The ``arr_0`` array of an ``.npz`` (the ADM / guided-diffusion sample convention)."""
    with _reading(path, ".npz"), zipfile.ZipFile(path) as archive:
        members = archive.namelist()
        if "arr_0.npy" not in members:
            keys = ", ".join(m.removesuffix(".npy") for m in members) or "none"
            raise DataError(f"{path}: no arr_0 array in the .npz (keys found: {keys})")
        with archive.open("arr_0.npy") as stream:
            shape, fortran_order, dtype = _read_npy_header(stream)
            held = archive.getinfo("arr_0.npy").file_size - stream.tell()
        claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python ints: an absurd shape cannot overflow
        if claimed > held:  # checked before anything is allocated for it
            raise DataError(
                f"{path}: arr_0's header claims shape {tuple(shape)} ({_bytes(claimed)}), but the file holds "
                f"{_bytes(held)} of data: it is truncated or corrupt"
            )
        if fortran_order:  # column-major data cannot be streamed along N
            with archive.open("arr_0.npy") as stream:
                array = np.lib.format.read_array(stream, allow_pickle=False)
            return ImageArray(str(path), array.shape, array.dtype, _slicer(array))

    def read_npz(n: int) -> Iterator[np.ndarray]:
        with _reading(path, ".npz"), zipfile.ZipFile(path) as archive, archive.open("arr_0.npy") as stream:
            _read_npy_header(stream)
            per_image = int(np.prod(shape[1:])) * dtype.itemsize
            for start in range(0, shape[0], n):
                rows = min(n, shape[0] - start)
                data = stream.read(rows * per_image)
                if len(data) != rows * per_image:
                    raise DataError(f"{path}: arr_0 is truncated (ends within image {start + len(data) // per_image})")
                yield np.frombuffer(data, dtype=dtype).reshape(rows, *shape[1:])

    return ImageArray(str(path), shape, dtype, read_npz)


@contextmanager
def _reading(path: Path, kind: str) -> Iterator[None]:
    """Turn the errors of a corrupt or unreadable array file into a one-line ``DataError``."""
    try:
        yield
    except DataError:
        raise
    except _READ_ERRORS as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DataError(f"{path}: cannot read {kind} ({reason})") from None


def _bytes(n: int) -> str:
    """A byte count for people: ``1.5 GiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"


def _slicer(array: np.ndarray) -> Callable[[int], Iterator[np.ndarray]]:
    return lambda n: (array[start : start + n] for start in range(0, len(array), n))


def _read_npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    return np.lib.format.read_array_header_2_0(stream)
