"""``load_images``: folders, image files, ``.npz`` / ``.npy`` and arrays to one uint8 ``ImageSet``.

A load is bounded in time and memory: headers first (sizes without decoding), then one
preallocated uint8 ``(N, 3, H, W)`` array (a memory-mapped file when caching) that worker
threads decode straight into, one slot per image. No second full copy is ever held.
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError
from ..io import check_output_folder
from .arrays import ARRAY_EXTENSIONS, ImageArray, from_file, from_memory
from .cache import ImageCache, cache_key, file_entries
from .decode import IMAGE_EXTENSIONS
from .image_files import LoadReport, decode_files, list_image_files, read_sizes
from .imageset import ImageSet
from .memory import allocate_images
from .sizing import SizePolicy

ON_ERROR = ("raise", "skip")
_PROGRESS_ABOVE = 1000


def load_images(
    source: str | os.PathLike[str] | np.ndarray | Tensor,
    size: int | tuple[int, int] | None = None,
    *,
    crop: str = "center",
    seed: int = 0,
    cache: str | os.PathLike[str] | None = None,
    on_error: str = "raise",
    workers: int | None = None,
    progress: bool | None = None,
) -> ImageSet:
    """Load images as a uint8 ``(N, 3, H, W)`` ``ImageSet``.

    Sources: a folder (recursive; ``.png .jpg .jpeg .webp .bmp .tif .tiff`` in any case;
    sorted by relative path, which becomes each image's name), a single image file, an
    ``.npz`` holding ``arr_0`` (N, H, W, 3) as ADM / guided-diffusion samples do, an
    ``.npy``, or a numpy array / torch tensor (uint8, uint16 or float in [0, 1]; NHWC,
    NCHW or grayscale NHW; see ``freqprobe.data.arrays``). Arrays are named ``"0"``,
    ``"1"``, …; ``origin`` is the path, or ``"array"``. Pixel modes are converted as
    ``freqprobe.data.decode`` documents, in files and arrays alike (16-bit as ``v >> 8``;
    alpha is dropped with one warning per load).

    Args:
        source: where the images are.
        size: ``None`` to require one common size, or ``S`` / ``(H, W)`` to bring every
            image to it by ``crop``.
        crop: ``"center"``, ``"random"`` (offsets from a hash of ``seed`` and the image
            name) or ``"resize"`` (area average until the image just covers the size,
            then a center crop; never upsamples). See ``freqprobe.data.sizing``.
        seed: seed of the random crop.
        cache: a folder for an on-disk cache of the decoded array (path sources only; an
            in-memory array has nothing to decode, so it ignores this). A hit is
            memory-mapped; any change to a source file misses.
        on_error: ``"raise"`` on the first unreadable file, or ``"skip"`` such files with
            one warning saying how many (array contents are never skipped).
        workers: decoding threads; default ``min(8, os.cpu_count())``.
        progress: show a progress bar; default: when there are more than 1000 files.

    Returns:
        The images, their names and origin.

    Raises:
        DataError: a one-line reason naming the file: missing path, empty folder, no
            supported files, corrupt or truncated file, decompression bomb, sizes that
            differ (with ``size=None``) or an image smaller than ``size``, an ``.npz``
            without ``arr_0``, or an array of the wrong dtype, layout or range (a single
            ``H×W×C`` image without its batch axis included).

    Example:
        >>> images = load_images(np.zeros((2, 8, 8, 3), dtype=np.uint8), size=4)
        >>> images.images.shape, images.names
        (torch.Size([2, 3, 4, 4]), ['0', '1'])
    """
    policy = SizePolicy.parse(size, crop, seed)
    if cache is not None and not isinstance(cache, (str, os.PathLike)):
        raise DataError(f"cache must be a folder path, got {type(cache).__name__}")
    if cache is not None:  # a file in its place fails now; an unwritable one only when it must write
        check_output_folder(cache, "cache", try_writing=False)
    if on_error not in ON_ERROR:
        raise DataError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    workers = min(8, os.cpu_count() or 1) if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise DataError(f"workers must be a positive int, got {workers!r}")

    if isinstance(source, (np.ndarray, Tensor)):
        array = from_memory(source)
        out_size = policy.output_size({array.image_size: ["every image"]}, array.label)
        images = allocate_images((array.count, 3, *out_size), array.label)
        report = _copy_array(array, images, policy)
        _warn(report, array.label)
        return ImageSet(torch.from_numpy(images), report.names, origin="array")
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(f"source must be a path, a numpy array or a torch tensor, got {type(source).__name__}")

    path = Path(source)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if path.is_dir():
        root, names = path, list_image_files(path)
    elif suffix in IMAGE_EXTENSIONS or suffix in ARRAY_EXTENSIONS:
        root, names = path.parent, [path.name]
    else:
        supported = ", ".join((*IMAGE_EXTENSIONS, *ARRAY_EXTENSIONS))
        raise DataError(f"{path}: unsupported file type (supported: a folder, or {supported})")

    store = None if cache is None else ImageCache(cache, cache_key(path, file_entries(root, names), policy, on_error))
    hit = None if store is None else store.read()
    if hit is not None:
        images, report = hit
    else:
        count, out_size, fill = _plan(path, root, names, policy, on_error, workers, progress)
        shape = (count, 3, *out_size)
        if store is not None:
            images, report = store.build(shape, fill, str(path))
        else:
            images = allocate_images(shape, str(path))
            report = fill(images)
            images = images[: len(report.names)]
    _warn(report, str(path))
    return ImageSet(torch.from_numpy(images), report.names, origin=str(path))


def _plan(
    path: Path,
    root: Path,
    names: list[str],
    policy: SizePolicy,
    on_error: str,
    workers: int,
    progress: bool | None,
) -> tuple[int, tuple[int, int], Callable[[np.ndarray], LoadReport]]:
    """Read headers: the image count, the output ``(H, W)``, and how to fill the output."""
    if path.is_file() and path.suffix.lower() in ARRAY_EXTENSIONS:
        array = from_file(path)
        out_size = policy.output_size({array.image_size: ["every image"]}, array.label)
        return array.count, out_size, lambda out: _copy_array(array, out, policy)

    kept, sizes, header_skips = read_sizes(root, names, on_error)
    if not kept:
        raise DataError(f"{path}: no readable images ({len(header_skips)} skipped; first: {header_skips[0]})")
    by_size: dict[tuple[int, int], list[str]] = defaultdict(list)
    for name, hw in zip(kept, sizes):
        by_size[hw].append(name)
    out_size = policy.output_size(by_size, str(root))
    show = len(kept) > _PROGRESS_ABOVE if progress is None else progress

    def fill(out: np.ndarray) -> LoadReport:
        report = decode_files(
            out, root, kept, sizes, policy, on_error=on_error, workers=workers, show_progress=show, label=str(path)
        )
        report.skipped = header_skips + report.skipped
        if not report.names:
            raise DataError(f"{path}: no readable images ({len(report.skipped)} skipped; first: {report.skipped[0]})")
        return report

    return len(kept), out_size, fill


def _copy_array(array: ImageArray, out: np.ndarray, policy: SizePolicy) -> LoadReport:
    """Write every image of ``array`` into ``out`` under the size policy.

    A window shared by every image (no crop, or a center crop) is copied a whole chunk at a
    time (one transpose per chunk); a random crop or a resize goes image by image.
    """
    window = policy.shared_window(array.image_size)
    for start, chunk in array.chunks():
        if window is not None:
            rows, columns = window
            out[start : start + len(chunk)] = chunk[:, rows, columns].transpose(0, 3, 1, 2)
            continue
        for offset, image in enumerate(chunk):
            out[start + offset] = policy.fit(image, str(start + offset)).transpose(2, 0, 1)
    names = [str(i) for i in range(array.count)]
    return LoadReport(names=names, alpha_files=names if array.has_alpha else [])


def _warn(report: LoadReport, origin: str) -> None:
    """One warning per kind of trouble, pointing at the caller of ``load_images``."""
    if report.alpha_files:
        warnings.warn(
            f"{origin}: dropped the alpha channel of {_count(report.alpha_files, 'image')} "
            f"(e.g. {', '.join(report.alpha_files[:3])})",
            stacklevel=3,
        )
    if report.skipped:
        more = f"; and {len(report.skipped) - 3} more" if len(report.skipped) > 3 else ""
        warnings.warn(
            f"{origin}: skipped {_count(report.skipped, 'unreadable file')}: {'; '.join(report.skipped[:3])}{more}",
            stacklevel=3,
        )


def _count(items: Sequence[object], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
