"""Counter-based random numbers keyed by ``(seed, image index, element)``.

A stateless hash (the PCG hash of Jarzynski & Olano, 2020) instead of a generator: every
image gets the same numbers whichever batch it falls in and whichever device runs it,
with no Python loop over images. Arithmetic stays in int64 on 32-bit values, so no
product overflows.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_MASK = 0xFFFFFFFF


def pcg_hash(v: Tensor) -> Tensor:
    """Hash int64 values in ``[0, 2**32)`` to well-mixed values in the same range."""
    state = (v * 747796405 + 2891336453) & _MASK
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & _MASK
    return ((word >> 22) ^ word) & _MASK


def keyed_bits(seed: int, index: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Random 32-bit integers of shape ``(len(index), *shape)``, one stream per image."""
    key = pcg_hash(torch.tensor(seed & _MASK, device=index.device, dtype=torch.int64))
    key = pcg_hash((key ^ (index.long() & _MASK)))
    count = math.prod(shape)
    counter = torch.arange(count, device=index.device, dtype=torch.int64)
    bits = pcg_hash(pcg_hash(counter[None, :] ^ key[:, None]) ^ (key[:, None] >> 7))
    return bits.reshape(len(index), *shape)


def keyed_uniform(seed: int, index: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Uniform float32 in ``[0, 1)`` of shape ``(len(index), *shape)``."""
    return (keyed_bits(seed, index, shape) >> 8).float() * 2.0**-24


def keyed_normal(seed: int, index: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Standard normal float32 of shape ``(len(index), *shape)`` (Box–Muller)."""
    u = keyed_uniform(seed, index, (2, *shape))
    radius = torch.sqrt(-2.0 * torch.log1p(-u[:, 0]))  # 1 - u is in (0, 1]
    return radius * torch.cos(2.0 * math.pi * u[:, 1])


def keyed_permutation(seed: int, index: Tensor, n: int) -> Tensor:
    """A random permutation of ``range(n)`` per image, shape ``(len(index), n)``."""
    return torch.argsort(keyed_bits(seed, index, (n,)), dim=1, stable=True)
