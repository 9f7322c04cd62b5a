"""Folders of image files: listing, header pass, and parallel decoding into slots."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..errors import DataError
from . import decode
from .sizing import SizePolicy


@dataclass
class LoadReport:
    """What a load kept and what it had to say about the rest.

    Args:
        names: names of the loaded images, in output order.
        alpha_files: names of the images whose alpha channel was dropped.
        skipped: one-line reasons for the files skipped under ``on_error="skip"``.
    """

    names: list[str]
    alpha_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def list_image_files(folder: Path) -> list[str]:
    """Relative paths (forward slashes) of the image files under ``folder``, sorted.

    The walk is recursive; extensions match case-insensitively; hidden files and folders
    (names starting with ``.``, such as ``.ipynb_checkpoints`` or macOS ``._`` files) are
    ignored, and so are files of other types.

    Raises:
        DataError: the folder holds no files, or none of a supported type.
    """
    found: list[str] = []
    other_types: set[str] = set()
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        relative = Path(directory).relative_to(folder)
        for file in files:
            if file.startswith("."):
                continue
            suffix = os.path.splitext(file)[1].lower()
            if suffix in decode.IMAGE_EXTENSIONS:
                found.append((relative / file).as_posix())
            else:
                other_types.add(suffix or "(no extension)")
    if not found:
        supported = ", ".join(decode.IMAGE_EXTENSIONS)
        if not other_types:
            raise DataError(f"{folder}: folder is empty")
        raise DataError(f"{folder}: no image files (found {', '.join(sorted(other_types))}; supported: {supported})")
    return sorted(found)


def read_sizes(root: Path, names: list[str], on_error: str) -> tuple[list[str], list[tuple[int, int]], list[str]]:
    """Header pass: ``(names kept, their (H, W), skip reasons)``; raises unless skipping."""
    kept: list[str] = []
    sizes: list[tuple[int, int]] = []
    skipped: list[str] = []
    for name in names:
        try:
            sizes.append(decode.read_image_size(root / name))
        except DataError as error:
            if on_error == "raise":
                raise
            skipped.append(str(error))
            continue
        kept.append(name)
    return kept, sizes, skipped


def decode_files(
    out: np.ndarray,
    root: Path,
    names: list[str],
    sizes: list[tuple[int, int]],
    policy: SizePolicy,
    *,
    on_error: str,
    workers: int,
    show_progress: bool,
    label: str,
) -> LoadReport:
    """Decode ``root / names[i]`` into ``out[i]`` in parallel threads.

    A slot whose file fails to decode under ``on_error="skip"`` is left unwritten and
    squeezed out afterwards: the report names the kept images, and ``out[:len(names)]``
    holds them, in order.

    Raises:
        DataError: a file fails under ``on_error="raise"`` (pending work is cancelled).
    """

    def decode_slot(i: int) -> bool:
        image, had_alpha = decode.decode_image(root / names[i])
        if image.shape[:2] != sizes[i]:
            raise DataError(f"{root / names[i]}: changed while loading (size {sizes[i]}, then {image.shape[:2]})")
        out[i] = policy.fit(image, names[i]).transpose(2, 0, 1)
        return had_alpha

    kept: list[int] = []
    alpha: list[int] = []
    failed: list[tuple[int, str]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(decode_slot, i): i for i in range(len(names))}
        try:
            bar = tqdm(as_completed(futures), total=len(futures), disable=not show_progress, desc=label, unit="img")
            for future in bar:
                i = futures[future]
                try:
                    had_alpha = future.result()
                except DataError as error:
                    if on_error == "raise":
                        raise
                    failed.append((i, str(error)))
                    continue
                kept.append(i)
                if had_alpha:
                    alpha.append(i)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    kept.sort()
    for slot, i in enumerate(kept):
        if slot != i:
            out[slot] = out[i]
    return LoadReport(
        names=[names[i] for i in kept],
        alpha_files=[names[i] for i in sorted(alpha)],
        skipped=[reason for _, reason in sorted(failed)],
    )


def pixel_modes(source: str | os.PathLike) -> dict[str, int]:
    """How many files of each PIL mode (``RGB``, ``L``, ``RGBA``, ``I;16`` ...) a folder (or one file) holds.

    Reads headers only. Unreadable files count under ``unreadable``.
    """
    path = Path(source)
    folder, names = (path, list_image_files(path)) if path.is_dir() else (path.parent, [path.name])
    counts: dict[str, int] = {}
    for name in names:
        try:
            with Image.open(folder / name) as image:
                mode = image.mode
        except Exception:  # reported as a count here; load_images names the file
            mode = "unreadable"
        counts[mode] = counts.get(mode, 0) + 1
    return dict(sorted(counts.items()))
