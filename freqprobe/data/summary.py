"""Per-set statistics (count, size, channel means and standard deviations)."""

from __future__ import annotations

import torch

from .imageset import ImageSet


def describe(images: ImageSet, batch_size: int = 1024) -> dict[str, float | int | str]:
    """Count, size and per-channel mean/std (in [0, 1] units), streamed over batches."""
    total = torch.zeros(3, dtype=torch.float64)
    squares = torch.zeros(3, dtype=torch.float64)
    for x in images.batches(batch_size=batch_size, device="cpu"):
        x = x.double()
        total += x.sum(dim=(0, 2, 3))
        squares += (x**2).sum(dim=(0, 2, 3))
    height, width = images.size
    count = len(images) * height * width
    mean = total / count
    std = (squares / count - mean**2).clamp_min(0).sqrt()
    row: dict[str, float | int | str] = {"origin": images.origin, "n": len(images), "height": height, "width": width}
    for c, channel in enumerate("rgb"):
        row[f"mean_{channel}"] = round(float(mean[c]), 5)
        row[f"std_{channel}"] = round(float(std[c]), 5)
    return row
