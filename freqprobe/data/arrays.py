"""Image arrays (numpy, torch, ``.npy``, ``.npz``) read in chunks into uint8 NCHW.

Accepted: uint8, or float in ``[0, 1]`` (rounded as ``rint(x * 255)``); layout
``(N, H, W)`` (grayscale), ``(N, H, W, C)`` or ``(N, C, H, W)`` with ``C`` 1 or 3, the
channel axis being whichever of axes 1 and 3 has size 1 or 3 (both is ambiguous, an error).
Grayscale is replicated to 3 channels. Files are read a chunk at a time (``.npy`` through a
memory map, ``.npz`` by streaming its ``arr_0`` member), so a source is never held twice.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError

_CHUNK_BYTES = 64 * 2**20
_CHANNELS = (1, 3)


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
            self.channel_axis: int | None = None
        elif len(self.shape) == 4:
            candidates = [axis for axis in (1, 3) if self.shape[axis] in _CHANNELS]
            if len(candidates) != 1:
                problem = "ambiguous" if candidates else "no"
                raise DataError(
                    f"{self.label}: {problem} channel axis in shape {self.shape}; expected (N, H, W), "
                    "(N, H, W, C) or (N, C, H, W) with C = 1 or 3 on exactly one of axes 1 and 3"
                )
            self.channel_axis = candidates[0]
        else:
            raise DataError(
                f"{self.label}: expected images (N, H, W), (N, H, W, C) or (N, C, H, W), got shape {self.shape}"
            )
        if self.dtype != np.uint8 and self.dtype.kind != "f":
            raise DataError(f"{self.label}: expected uint8, or float in [0, 1], got dtype {self.dtype}")
        if self.count == 0 or 0 in self.image_size:
            raise DataError(f"{self.label}: no images (shape {self.shape})")

    @property
    def count(self) -> int:
        return self.shape[0]

    @property
    def image_size(self) -> tuple[int, int]:
        """``(H, W)``."""
        return (self.shape[1], self.shape[2]) if self.channel_axis in (None, 3) else (self.shape[2], self.shape[3])

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
        if raw.dtype != np.uint8:
            flat = raw.reshape(raw.shape[0], -1)
            bad = ~(np.isfinite(flat).all(axis=1) & (flat.min(axis=1) >= 0) & (flat.max(axis=1) <= 1))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"{self.label}: float image {start + i} has values in [{flat[i].min()}, {flat[i].max()}], "
                    "expected [0, 1]"
                )
            raw = np.rint(raw * np.float32(255)).astype(np.uint8)
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


def from_npy(path: Path) -> ImageArray:
    """A ``.npy`` file, memory-mapped."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as error:  # numpy raises ValueError, OSError, EOFError … on bad files
        raise DataError(f"{path}: cannot read .npy ({' '.join(str(error).split())})") from None
    return ImageArray(str(path), array.shape, array.dtype, _slicer(array))


def from_npz(path: Path) -> ImageArray:
    """The ``arr_0`` array of an ``.npz`` (the ADM / guided-diffusion sample convention)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
            if "arr_0.npy" not in members:
                keys = ", ".join(m.removesuffix(".npy") for m in members) or "none"
                raise DataError(f"{path}: no arr_0 array in the .npz (keys found: {keys})")
            with archive.open("arr_0.npy") as stream:
                shape, fortran_order, dtype = _read_npy_header(stream)
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DataError(f"{path}: cannot read .npz ({' '.join(str(error).split())})") from None
    if fortran_order:  # column-major data cannot be streamed along N
        with np.load(path, allow_pickle=False) as archive:
            array = archive["arr_0"]
        return ImageArray(str(path), array.shape, array.dtype, _slicer(array))

    def read_npz(n: int) -> Iterator[np.ndarray]:
        with zipfile.ZipFile(path) as archive, archive.open("arr_0.npy") as stream:
            _read_npy_header(stream)
            per_image = int(np.prod(shape[1:])) * dtype.itemsize
            for start in range(0, shape[0], n):
                rows = min(n, shape[0] - start)
                data = stream.read(rows * per_image)
                if len(data) != rows * per_image:
                    raise DataError(f"{path}: arr_0 is truncated (ends within image {start + len(data) // per_image})")
                yield np.frombuffer(data, dtype=dtype).reshape(rows, *shape[1:])

    return ImageArray(str(path), shape, dtype, read_npz)


def _slicer(array: np.ndarray) -> Callable[[int], Iterator[np.ndarray]]:
    return lambda n: (array[start : start + n] for start in range(0, len(array), n))


def _read_npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    return np.lib.format.read_array_header_2_0(stream)
