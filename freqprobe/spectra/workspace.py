"""Buffers that one streaming pass reuses from batch to batch.

A fresh image-sized tensor is not free on a CPU: its pages are faulted in on first touch,
and the allocator hands large blocks back to the system when they are freed, so a batch
loop that allocates its temporaries pays the page faults again every batch (measured on a
2-core VM: about as much time as the FFTs). ``Workspace.get`` keeps one block per name and
returns a view of the requested shape, growing the block only when a larger one is asked
for; the last, shorter batch of a set gets a prefix.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


class Workspace:
    """Named scratch tensors on one device (contents undefined on return).

    Example:
        >>> ws = Workspace(torch.device("cpu"))
        >>> a = ws.get("x", (4, 8)); b = ws.get("x", (2, 8))
        >>> a.data_ptr() == b.data_ptr(), tuple(b.shape)
        (True, (2, 8))
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._blocks: dict[tuple[str, torch.dtype], Tensor] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> Tensor:
        """A contiguous ``shape`` tensor of ``dtype`` backed by the block called ``name``."""
        size = math.prod(shape)
        block = self._blocks.get((name, dtype))
        if block is None or block.numel() < size:
            block = torch.empty(size, dtype=dtype, device=self.device)
            self._blocks[(name, dtype)] = block
        return block[:size].view(shape)
