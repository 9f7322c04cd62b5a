"""Labelled images drawn from several image sets without copying the sets."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor


@dataclasses.dataclass
class LabelledImages:
    """Samples ``i`` = image ``index[i]`` of set ``source[i]``, with class ``label[i]``.

    ``sources`` are the sets' uint8 ``(N_s, 3, H, W)`` tensors (CPU, memory-mapped, or on the
    device); ``index`` is the image's position in its own set, which keys the draws of
    random transforms, so paired images of two sets are transformed alike.
    """

    sources: list[Tensor]
    source: Tensor
    index: Tensor
    label: Tensor

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.sources[0].shape[2]), int(self.sources[0].shape[3])

    def gather(self, positions: Tensor, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        """``(float images in [0, 1], index, label)`` of the samples at ``positions``, on ``device``."""
        positions = positions.cpu()
        height, width = self.image_size
        out = torch.empty((len(positions), 3, height, width), dtype=torch.uint8, device=device)
        source = self.source[positions]
        for s, images in enumerate(self.sources):
            rows = (source == s).nonzero().squeeze(1)
            if len(rows):
                wanted = self.index[positions[rows]]
                out[rows.to(device)] = _gathered(images, wanted, device)
        return out.float().div_(255.0), self.index[positions].to(device), self.label[positions].to(device)

    def batches(self, batch_size: int, device: torch.device):
        """Yield ``(x, index, label)`` in order."""
        for start in range(0, len(self), batch_size):
            yield self.gather(torch.arange(start, min(start + batch_size, len(self))), device)


def _gathered(images: Tensor, wanted: Tensor, device: torch.device) -> Tensor:
    """``images[wanted]`` on ``device``; from a pinned host set, gathered into a pinned
    buffer (the caching host allocator reuses it) so the copy to the GPU is asynchronous."""
    if device.type == "cuda" and images.device.type == "cpu" and images.is_pinned():
        staged = torch.empty((len(wanted), *images.shape[1:]), dtype=images.dtype, pin_memory=True)
        return torch.index_select(images, 0, wanted, out=staged).to(device, non_blocking=True)
    return images[wanted.to(images.device)].to(device, non_blocking=True)
