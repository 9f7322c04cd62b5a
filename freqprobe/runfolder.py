"""Which analysis a run folder holds, and the rule that every analysis writes into a folder
of its own: a command refuses an output folder that holds another analysis's tables, so
no two analyses' files mix (``spectrum --out`` into an ablate folder is an error)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import FreqprobeError

#: The files that make a folder an analysis of a kind (all of them present), in the order checked.
KIND_FILES: dict[str, tuple[str, ...]] = {
    "ablate": ("results.csv",),
    "spectrum": ("radial.csv", "peaks.csv"),
    "attribute": ("bands.csv", "sensitivity.csv"),
    "probe": ("curves.csv", "trials.csv"),
}


def folder_kind(folder: str | os.PathLike[str]) -> str | None:
    """The kind of analysis a folder holds (``ablate``, ``spectrum``, ``attribute``, ``probe``), or None."""
    folder = Path(folder)
    return next((kind for kind, files in KIND_FILES.items() if all((folder / f).is_file() for f in files)), None)


def claim_folder(folder: str | os.PathLike[str], kind: str) -> None:
    """Refuse to write ``kind``'s results into a folder that holds another analysis.

    Raises:
        FreqprobeError: ``folder`` holds another kind's tables (one line, with a folder to use instead).
    """
    held = folder_kind(folder)
    if held is not None and held != kind:
        files = ", ".join(KIND_FILES[held])
        raise FreqprobeError(
            f"--out {folder}: holds the results of '{held}' ({files}); every analysis writes into a folder of its "
            f"own: give {kind} another folder, e.g. --out {Path(folder) / kind}"
        )
