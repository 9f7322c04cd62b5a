"""A labelled image set: images, one class per image, and the class names.

On disk it is a folder with one sub-folder per class (torchvision's ``ImageFolder``
layout): ``data/cat/001.png``, ``data/dog/xyz.jpg``; the class names are the sub-folder
names, sorted. In memory it is ``(images, labels, class_names)``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import ImageSet, load_images
from ..errors import DataError


@dataclasses.dataclass(frozen=True)
class LabelledImages:
    """Images with their classes: ``labels[i]`` indexes ``class_names``."""

    images: ImageSet
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.images):
            raise DataError(f"{len(self.labels)} labels for {len(self.images)} images")
        if len(self.labels) == 0:
            raise DataError("no images to probe")
        if self.labels.min() < 0 or self.labels.max() >= len(self.class_names):
            raise DataError(f"labels must lie in 0..{len(self.class_names) - 1} (one per class name)")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def categories(self) -> list[str]:
        """The class name of every image."""
        return [self.class_names[k] for k in self.labels]


LabelledSource = LabelledImages | str | os.PathLike[str] | tuple


def load_labelled(source: LabelledSource, size: int | tuple[int, int] | None = None) -> LabelledImages:
    """A ``LabelledImages`` from a class-per-folder directory or ``(images, labels, class_names)``.

    ``images`` is anything ``load_images`` takes; ``labels`` are class indices or names.
    An ``ImageSet`` loaded from such a folder (names ``class/file``) is labelled the same
    way; an array or an ``.npz`` / ``.npy`` file carries no labels. Every non-hidden
    sub-folder is a class and must hold images. ``size`` crops every image as
    ``load_images`` does.
    """
    if isinstance(source, LabelledImages):
        return source
    if isinstance(source, tuple):
        if len(source) != 3:
            raise DataError("in-memory labelled images are a tuple (images, labels, class_names)")
        images, labels, class_names = source
        return _from_memory(images, labels, [str(name) for name in class_names], size)
    folder = None
    if isinstance(source, ImageSet):
        images = source if size is None else ImageSet(load_images(source.images, size=size).images, source.names,
                                                      source.origin)  # fmt: skip
    elif isinstance(source, (str, os.PathLike)) and not Path(source).exists():
        raise DataError(f"{source}: no such folder")
    elif isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        images, folder = load_images(source, size=size), Path(source)
    else:
        if isinstance(source, (str, os.PathLike)):
            suffix = Path(source).suffix.lower()
            what = f"{source}: an {suffix} file" if suffix in (".npz", ".npy") else f"{source}: a single file"
        else:
            what = f"an in-memory {type(source).__name__}"
        raise DataError(
            f"{what} carries no labels; probe data must be a folder with one sub-folder per class "
            "(or, in Python, (images, labels, class_names))"
        )
    where = source if folder is not None else images.origin
    top = [name for name in images.names if "/" not in name]
    if top:
        raise DataError(f"{where}: put images in one sub-folder per class; {top[0]!r} is at the top level")
    categories = [name.split("/", 1)[0] for name in images.names]
    class_names = tuple(sorted(set(categories)))
    if folder is not None:
        empty = [d.name for d in sorted(folder.iterdir()) if d.is_dir() and not d.name.startswith(".")
                 and d.name not in class_names]  # fmt: skip
        if empty:
            raise DataError(f"{folder / empty[0]}: class folder without images (every sub-folder is a class)")
    index = {name: k for k, name in enumerate(class_names)}
    return LabelledImages(images, np.array([index[c] for c in categories], dtype=np.int64), class_names)


def _from_memory(
    images: Any, labels: Sequence, class_names: list[str], size: int | tuple[int, int] | None
) -> LabelledImages:
    if isinstance(images, ImageSet):
        cropped = images if size is None else load_images(images.images, size=size)
        image_set = ImageSet(cropped.images, images.names, images.origin)
    else:
        image_set = load_images(images, size=size)
    if len(set(class_names)) != len(class_names):
        raise DataError("class names must be unique")
    labels = list(labels.tolist() if isinstance(labels, (np.ndarray, torch.Tensor)) else labels)
    if labels and isinstance(labels[0], str):
        unknown = sorted(set(labels) - set(class_names))
        if unknown:
            raise DataError(f"label {unknown[0]!r} is not a class name ({', '.join(class_names)})")
        labels = [class_names.index(label) for label in labels]
    return LabelledImages(image_set, np.asarray(labels, dtype=np.int64), tuple(class_names))
