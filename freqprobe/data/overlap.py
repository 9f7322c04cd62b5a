"""Exact copies of images, found by hash: a copy in two classes, one trained and one
tested, is a leak that no split by file name can see."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

#: Pixels (of every image) that the hash reads; candidates are then compared in full.
HASHED_PIXELS = 4096


def image_hashes(stacks: Sequence[Tensor]) -> list[Tensor]:
    """An int64 hash per image of each uint8 ``(N, C, H, W)`` stack (one size), from a fixed
    random sample of its pixels: exact integer sums, so equal images get equal hashes.

        >>> import torch
        >>> x = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8)
        >>> a, b = image_hashes([x, x.flip(0)])
        >>> bool((a == b.flip(0)).all()), len(set(a.tolist()))
        (True, 3)
    """
    flat = [images.flatten(1) for images in stacks]
    generator = torch.Generator().manual_seed(0)
    positions = torch.randperm(flat[0].shape[1], generator=generator)[:HASHED_PIXELS]
    weights = torch.randint(1, 2**31, (len(positions),), generator=generator)
    return [(f[:, positions.to(f.device)].long() * weights.to(f.device)).sum(1).cpu() for f in flat]
