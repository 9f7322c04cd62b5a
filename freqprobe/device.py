"""Choosing the torch device."""

from __future__ import annotations

import torch

from .errors import FreqprobeError


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return a usable torch device; ``"auto"`` (or ``None``) means CUDA when available, else CPU.

    Raises:
        FreqprobeError: an unknown device, or a CUDA device this machine does not have.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise FreqprobeError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (resolved.index or 0) >= count:
            raise FreqprobeError(f"device {device!r} is not available here ({count} CUDA devices)")
    return resolved
