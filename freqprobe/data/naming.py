"""Default set names, the same in every command: ``real``, then each generated set's file name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..io import MISSING_WORDS
from .imageset import ImageSet


def default_set_names(real: ImageSet, fakes: Sequence[ImageSet]) -> list[str]:
    """``real``, then each generated set's file or folder name without extension (a demo set:
    ``generated``; an in-memory one: ``fake``, or ``fake1``, ``fake2``, … among several), made
    distinct with ``-2``, ``-3``, …

    ``|`` becomes ``-`` (pairwise tasks are named ``pair:A|B``), and a stem that pandas reads
    as a missing value (``NA.npz``, ``null/``) is prefixed: ``set-NA``.

        >>> import torch
        >>> blank = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
        >>> default_set_names(ImageSet(blank), [ImageSet(blank, origin="b/samples.npz"), ImageSet(blank)])
        ['real', 'samples', 'fake2']
    """
    names = ["real"]
    for position, images in enumerate(fakes, start=1):
        stem = _stem(images.origin) or ("fake" if len(fakes) == 1 else f"fake{position}")
        stem = stem.replace("|", "-")
        stem = f"set-{stem}" if stem in MISSING_WORDS else stem
        name, k = stem, 2
        while name in names:
            name, k = f"{stem}-{k}", k + 1
        names.append(name)
    return names


def _stem(origin: str) -> str:
    if origin.startswith("demo("):
        return origin.rsplit(":", 1)[-1]
    return "" if origin == "array" else Path(origin).stem
