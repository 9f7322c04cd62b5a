"""Saving figures as PDF + PNG, atomically."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

from ..io import atomic_path


def save_figure(fig: Figure, stem: str | os.PathLike, dpi: int = 200) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png``; each appears whole or not at all."""
    paths = []
    for suffix in (".pdf", ".png"):
        final = Path(f"{os.fspath(stem)}{suffix}")  # not with_suffix: "run.v2" keeps its dot
        with atomic_path(final) as partial:
            fig.savefig(partial, format=suffix[1:], dpi=dpi, bbox_inches="tight")
        paths.append(final)
    return paths
