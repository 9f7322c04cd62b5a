"""``ImageSet``: a set of images held as uint8 ``(N, 3, H, W)``, with names and origin."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import torch
from torch import Tensor

from ..device import resolve_device
from ..errors import DataError


class ImageSet:
    """Images at rest as uint8 ``(N, 3, H, W)`` (CPU, possibly memory-mapped, or on a device).

    Args:
        images: uint8 tensor ``(N, 3, H, W)``.
        names: one name per image (file path relative to the source, or the index).
        origin: where the set came from (a path, or a description).

    Example:
        >>> s = ImageSet(torch.zeros(4, 3, 8, 8, dtype=torch.uint8), origin="zeros")
        >>> len(s), s.size, s.names[:2]
        (4, (8, 8), ['0', '1'])
        >>> next(s.batches(batch_size=3, device="cpu")).shape
        torch.Size([3, 3, 8, 8])
    """

    def __init__(self, images: Tensor, names: Sequence[str] | None = None, origin: str = "array") -> None:
        if not isinstance(images, Tensor) or images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            got = f"{tuple(images.shape)} {images.dtype}" if isinstance(images, Tensor) else type(images).__name__
            raise ValueError(f"ImageSet needs a uint8 tensor (N, 3, H, W), got {got}")
        names = [str(i) for i in range(images.shape[0])] if names is None else [str(n) for n in names]
        if len(names) != images.shape[0]:
            raise ValueError(f"ImageSet: {len(names)} names for {images.shape[0]} images")
        self.images = images
        self.names = names
        self.origin = origin

    # -- container ---------------------------------------------------------------------
    def __len__(self) -> int:
        return self.images.shape[0]

    @overload
    def __getitem__(self, key: int) -> Tensor: ...
    @overload
    def __getitem__(self, key: slice | Sequence[int] | Tensor | np.ndarray) -> ImageSet: ...
    def __getitem__(self, key):
        """An int gives one uint8 image ``(3, H, W)``; a slice, index array or boolean mask a sub-set.

        Raises:
            DataError: a boolean mask whose length is not ``len(self)``, or a key of another kind
                (a float, a string).
        """
        if isinstance(key, (Tensor, np.ndarray)) and key.ndim == 0:
            key = key.item()  # one element of a split's index
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            return self.images[int(key)]
        if isinstance(key, slice):
            positions = range(len(self))[key]
            if positions.step == 1:
                return ImageSet(self.images[key], self.names[key], self.origin)
            key = list(positions)
        index = _index_tensor(key)
        if index.dtype == torch.bool:
            if index.shape != (len(self),):
                raise DataError(f"a boolean mask must have shape ({len(self)},), got {tuple(index.shape)}")
            index = index.nonzero().flatten()
        index = index.long()
        return ImageSet(self.images[index.to(self.images.device)], [self.names[i] for i in index.tolist()], self.origin)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(self.images)

    def __repr__(self) -> str:
        height, width = self.size
        return f"ImageSet({len(self)} images, {height}x{width}, from {self.origin!r})"

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)``."""
        return int(self.images.shape[2]), int(self.images.shape[3])

    # -- float views -------------------------------------------------------------------
    def to(self, device: str | torch.device = "auto") -> ImageSet:
        """The same set with its uint8 images resident on ``device``."""
        return ImageSet(self.images.to(resolve_device(device)), self.names, self.origin)

    def batches(
        self,
        batch_size: int = 256,
        device: str | torch.device = "auto",
        with_index: bool = False,
    ) -> Iterator[Tensor] | Iterator[tuple[Tensor, Tensor]]:
        """Yield float32 batches in ``[0, 1]`` on ``device`` (with each image's index if asked)."""
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise DataError(f"batch_size must be a positive int, got {batch_size!r}")
        device = resolve_device(device)
        for start in range(0, len(self), batch_size):
            chunk = self.images[start : start + batch_size]
            x = torch.as_tensor(chunk).to(device, non_blocking=True).float().div_(255.0)
            if with_index:
                yield torch.arange(start, start + x.shape[0], device=device), x
            else:
                yield x

    def float(self, device: str | torch.device = "auto") -> Tensor:
        """All images as one float32 tensor in ``[0, 1]`` on ``device``."""
        return self.images.to(resolve_device(device)).float().div_(255.0)

    def numpy(self) -> np.ndarray:
        """The images as a uint8 NHWC array (for saving, or for other libraries)."""
        return self.images.permute(0, 2, 3, 1).cpu().numpy()

    def fingerprint(self) -> str:
        """A short content hash of pixels and names: the set's identity in caches and results."""
        digest = hashlib.sha256()
        digest.update(repr(tuple(self.images.shape)).encode())
        for start in range(0, len(self), 1024):
            digest.update(self.images[start : start + 1024].cpu().contiguous().numpy().tobytes())
        digest.update("\n".join(self.names).encode())
        return digest.hexdigest()[:16]


def _index_tensor(key: Any) -> Tensor:
    """An index array or boolean mask as a CPU tensor; ``DataError`` for keys of another kind."""
    if isinstance(key, Tensor):
        index = key.cpu()
        valid = index.dtype == torch.bool or not (index.is_floating_point() or index.is_complex())
    else:
        array = np.asarray(key)
        if array.size == 0:
            return torch.zeros(0, dtype=torch.long)
        valid = array.dtype.kind in "biu"
        index = torch.as_tensor(array) if valid else None
    if not valid:
        raise DataError(f"index an ImageSet with ints, a slice, an int array or a boolean mask, not {key!r:.60}")
    return index
