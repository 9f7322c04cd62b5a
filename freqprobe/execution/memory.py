"""Memory planning for packed training: how many models train at once on a device.

A pack of G models costs, per model, its parameters four times over (weights, gradients,
AdamW's two moments) plus the activations autograd saves for one training batch; the
latter is measured, not guessed, by running one model forward on four images and counting
the bytes of every tensor saved for backward. The filtered training views (at most one
per variant of a pack, each up to ``training.trainer.RESIDENT_BYTES``) come off the
budget first. A pack whose first step saves more than the budget allows raises
``PackTooLarge`` (as a real out-of-memory error would), and the executor splits it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

#: The share of a device's free memory a study plans to use (the rest: allocator slack,
#: cuDNN workspaces, the CUDA context of other libraries).
USABLE = 0.85


class PackTooLarge(RuntimeError):
    """A pack's first training step needed more memory than the budget."""


def free_bytes(device: torch.device) -> int:
    """Free memory of ``device`` now: CUDA's own count, or the host's available RAM."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def default_budget(device: torch.device) -> int:
    """``USABLE`` of the device's free memory."""
    return int(USABLE * free_bytes(device))


@contextlib.contextmanager
def counting_saved_bytes() -> Iterator[list[int]]:
    """Count the bytes of tensors autograd saves for backward inside the block (one
    shared storage counted once): ``with counting_saved_bytes() as total: ...; total[0]``."""
    total, seen = [0], set()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            total[0] += storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield total


def activation_bytes_per_image(model: nn.Module, shape: tuple[int, int, int]) -> int:
    """Bytes autograd saves per training image of ``shape`` (measured on four images, CPU)."""
    was_training = model.training
    model.train()
    x = torch.zeros(4, *shape)
    try:
        with counting_saved_bytes() as total:
            F.cross_entropy(model(x), torch.zeros(4, dtype=torch.long))
    finally:
        model.train(was_training)
    return -(-total[0] // 4)


def parameter_bytes(model: nn.Module) -> int:
    """Weights, gradients and AdamW's two moments."""
    return 4 * sum(p.numel() * p.element_size() for p in model.parameters())


def pack_size(per_model: int, budget: int, fixed: int = 0) -> int:
    """How many models of ``per_model`` bytes fit in ``budget`` after ``fixed`` bytes (at least one)."""
    return max(1, (budget - fixed) // max(per_model, 1))


def split(items: list, size: int) -> list[list]:
    """``items`` in consecutive chunks of at most ``size``, as even as possible."""
    chunks = -(-len(items) // size)
    base, extra = divmod(len(items), chunks)
    out, start = [], 0
    for c in range(chunks):
        stop = start + base + (c < extra)
        out.append(items[start:stop])
        start = stop
    return out
