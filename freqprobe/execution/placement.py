"""Where an image set lives while it is analysed: resident on the device, or streamed.

One decision (``place``) for every analysis that walks a set in batches (spectra,
attribution) and for the sets of a study (``LocalExecutor``): a set whose uint8 pixels fit
in half the memory budget goes to the device once (``ImageSet.to``) and is sliced there;
a larger one streams in large chunks, each a whole number of batches, so the batches,
hence the results, are the same either way. On CUDA a streamed chunk is staged in pinned
host memory and copied on a side stream while the previous chunk is computed on (two
slots, events between them); on a CPU the same two-slot staging runs synchronously, so
the chunking is exercised (and tested) without a GPU.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import torch
from torch import Tensor

from .memory import default_budget

#: Bytes of one streamed chunk: large copies run at the bus's speed, and two of them (the
#: one computed on and the one in flight) stay small beside a GPU's memory.
CHUNK_BYTES = 1 << 30

log = logging.getLogger("freqprobe.placement")


def fits_resident(nbytes: int, budget: int) -> bool:
    """Whether ``nbytes`` of uint8 images may stay on the device: half the budget holds
    them (the other half: batches, spectra, models)."""
    return nbytes <= budget // 2


@dataclasses.dataclass(frozen=True)
class Placement:
    """``resident``: the set is on the device whole; else it streams ``chunk`` images at a time."""

    resident: bool
    chunk: int
    nbytes: int
    budget: int

    def describe(self, device: torch.device) -> str:
        """The one log line: what was chosen, and why."""
        size, budget = self.nbytes / 2**30, self.budget / 2**30
        if self.resident:
            return f"image set {size:.2f} GiB uint8: resident on {device} (budget {budget:.1f} GiB)"
        return f"image set {size:.2f} GiB uint8: streamed to {device} in chunks of {self.chunk} images (budget {budget:.1f} GiB)"


def place(count: int, image_bytes: int, budget: int, batch_size: int = 1, chunk_bytes: int = CHUNK_BYTES) -> Placement:
    """Resident when ``count`` images of ``image_bytes`` fit (``fits_resident``); else chunks
    of a whole number of batches, at most ``chunk_bytes`` and a quarter of the budget each
    (two in flight), at least one batch.

    Example:
        >>> place(1000, 3 * 64 * 64, budget=2**30).resident
        True
        >>> place(1000, 3 * 64 * 64, budget=2**20, batch_size=16).chunk  # 256 KiB chunks: 21 images -> 16
        16
    """
    nbytes = count * image_bytes
    if fits_resident(nbytes, budget):
        return Placement(True, max(count, 1), nbytes, budget)
    images = min(chunk_bytes, budget // 4) // max(image_bytes, 1)
    chunk = max(batch_size, images // batch_size * batch_size)
    return Placement(False, min(chunk, max(count, 1)), nbytes, budget)


def placed(images: Tensor, device: torch.device, batch_size: int, budget: int | None = None) -> tuple[Tensor, Placement]:
    """``(images, placement)``: the uint8 set moved to ``device`` when it fits, else as it
    is (to be streamed by ``chunks``). ``budget`` defaults to ``memory.default_budget``
    (a CPU's available RAM: a set in host memory normally stays as it is). A set already
    on a GPU stays resident. The choice is logged (one line)."""
    budget = default_budget(device) if budget is None else budget
    if images.device.type == device.type == "cuda":
        budget = max(budget, 2 * images.numel())
    placement = place(len(images), images[0].numel() if len(images) else 0, budget, batch_size)
    log.info(placement.describe(device))
    return (images.to(device) if placement.resident else images), placement


def chunks(images: Tensor, device: torch.device, placement: Placement) -> Iterator[Tensor]:
    """The set's uint8 images on ``device``, in order: the whole set when resident, else
    ``placement.chunk`` at a time, the next chunk copied while the caller works on this one.
    A chunk is valid until the next one is drawn."""
    if placement.resident:
        yield images.to(device)
        return
    staging = _Staging(images, device, placement.chunk)
    starts = range(0, len(images), placement.chunk)
    if len(starts):
        staging.start(0, starts[0])
    for k, first in enumerate(starts):
        if k + 1 < len(starts):
            staging.start(k + 1, starts[k + 1])
        yield staging.ready(k)
        staging.consumed(k)


class _Staging:
    """Two slots of ``chunk`` images: host staging (pinned on CUDA) and the device copy."""

    def __init__(self, images: Tensor, device: torch.device, chunk: int) -> None:
        self.images, self.device, self.chunk = images, device, chunk
        self.cuda = device.type == "cuda"
        shape = (chunk, *images.shape[1:])
        self.host = [torch.empty(shape, dtype=images.dtype, pin_memory=self.cuda) for _ in range(2)]
        self.on_device = [torch.empty(shape, dtype=images.dtype, device=device) for _ in range(2)] if self.cuda else self.host
        self.lengths = [0, 0]
        if self.cuda:
            self.stream = torch.cuda.Stream(device)
            self.copied = [torch.cuda.Event() for _ in range(2)]
            self.free = [torch.cuda.Event() for _ in range(2)]
            for buffer in self.on_device:  # freed early (a pass left midway), it waits for the side stream's copies
                buffer.record_stream(self.stream)

    def start(self, k: int, first: int) -> None:
        """Stage chunk ``k`` (images ``first:first + chunk``) into slot ``k % 2`` and start its copy."""
        slot = k % 2
        part = self.images[first : first + self.chunk]
        self.lengths[slot] = len(part)
        if self.cuda and part.is_pinned():  # a pinned set is copied from where it is
            source = part
        else:
            if self.cuda:
                self.copied[slot].synchronize()  # the slot's previous copy has left the pinned buffer
            source = self.host[slot][: len(part)].copy_(part)
        if self.cuda:
            with torch.cuda.stream(self.stream):
                self.stream.wait_event(self.free[slot])  # the caller is done with the slot's last chunk
                self.on_device[slot][: len(part)].copy_(source, non_blocking=True)
                self.copied[slot].record(self.stream)

    def ready(self, k: int) -> Tensor:
        """Chunk ``k`` on the device, once its copy is done (for work on the current stream)."""
        slot = k % 2
        if self.cuda:
            torch.cuda.current_stream(self.device).wait_event(self.copied[slot])
        return self.on_device[slot][: self.lengths[slot]]

    def consumed(self, k: int) -> None:
        """The work queued on chunk ``k`` so far is all there will be."""
        if self.cuda:
            self.free[k % 2].record(torch.cuda.current_stream(self.device))


def batches(images: Tensor, batch_size: int, device: torch.device, placement: Placement) -> Iterator[Tensor]:
    """uint8 batches of ``batch_size`` on ``device``, in order, through ``chunks`` (every
    chunk is a whole number of batches, so the batches do not depend on the placement)."""
    for chunk in chunks(images, device, placement):
        for start in range(0, len(chunk), batch_size):
            yield chunk[start : start + batch_size]
