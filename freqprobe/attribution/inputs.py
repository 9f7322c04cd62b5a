"""The first stage of ``fp.attribute``: options, sets, the variant and the model, checked
before any attribution runs."""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from pathlib import Path

from torch import nn

from ..ablation import AblationResult, resolve_model
from ..data import ImageSet
from ..data.sizing import CROP_HINT
from ..errors import DataError, FreqprobeError
from ..transforms import Transform, transform
from .band_gains import METHODS
from .bands import BandLayout
from .held_out import study_run
from .pixel_maps import PIXEL_METHODS
from .scores import TARGETS
from ..suggest import did_you_mean


def check_options(
    bands: int | Sequence[float],
    sectors: int,
    methods: Sequence[str],
    pixel_methods: Sequence[str],
    target: str | int,
    **counts: int,
) -> tuple[BandLayout, list[str], list[str]]:
    """The band layout and the method lists, after checking everything that needs no model or images.

    ``counts`` are options that must be whole numbers >= 1 (``n_images=...``).

    Raises:
        FreqprobeError: bands outside the spectrum, unknown methods, a target that is
            neither ``true``, ``margin`` nor a logit index, a count below 1.
    """
    methods = _checked_methods(methods, METHODS, "methods")
    pixel_methods = _checked_methods(pixel_methods, PIXEL_METHODS, "pixel_methods")
    if not methods:
        raise FreqprobeError("methods: give at least one band attribution method")
    if not (isinstance(target, int) and not isinstance(target, bool) and target >= 0) and target not in TARGETS:
        raise FreqprobeError(f"target={target!r}; choose true, margin or a class index")
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise FreqprobeError(f"{name}={value!r} must be a whole number >= 1")
    return BandLayout.build(bands, sectors), methods, pixel_methods


def check_variant(variant: str, size: tuple[int, int], pixel_methods: Sequence[str]) -> Transform:
    """The parsed variant, after checking it can be attributed through at this image size.

    Raises:
        FreqprobeError: a bad spec, a transform fitted on a set (``power_equalize``), or
            ``gradcam`` through a representation (``repr:...``): Grad-CAM reads the model's
            feature maps, which then lie on the representation's grid, not the image's.
    """
    variant_transform = transform(variant, size=size)
    if variant_transform.needs_fit:
        raise FreqprobeError(f"variant {variant}: a transform fitted on a set cannot be attributed through")
    shape = variant_transform.output_shape((3, *size))
    if "gradcam" in pixel_methods and not variant_transform.is_image:
        raise FreqprobeError(
            f"gradcam: the model reads {variant_transform} ({'x'.join(map(str, shape))}), not the image, so its "
            "feature maps are not on the image's pixel grid; drop gradcam (ig, smoothgrad, occlusion still work)"
        )
    return variant_transform


def default_classes(
    classes: Sequence[int] | None, n_logits: int, study_hint: tuple[int, int] | None = None
) -> tuple[int, int]:
    """The logit indices of the real and fake class: ``classes``; else, for a study's own
    sets, their places among its classes (``study_hint``); else ``(0, 1)`` for a 2-output model.

    Raises:
        FreqprobeError: indices that are not integers, or no ``classes`` for a model with
            other than 2 outputs (which two are real and fake cannot be guessed).
    """
    if classes is not None:
        try:
            if any(isinstance(c, bool) for c in classes):
                raise TypeError
            real_class, fake_class = (operator.index(c) for c in classes)  # NumPy ints become ints
        except TypeError:
            raise FreqprobeError(f"classes={tuple(classes)}: give two integer logit indices") from None
        return (real_class, fake_class)
    if study_hint is not None:
        return study_hint
    if n_logits != 2:
        raise FreqprobeError(
            f"the model gives {n_logits} logits: say which are the real and the fake class with "
            "classes=(REAL, FAKE) (command line: --classes REAL FAKE)"
        )
    return (0, 1)


def _checked_methods(given: Sequence[str], known: tuple[str, ...], name: str) -> list[str]:
    chosen = [given] if isinstance(given, str) else list(given)
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise FreqprobeError(f"{name}: unknown {unknown[0]!r}{did_you_mean(unknown[0], known)}; choose from {', '.join(known)}")
    return list(dict.fromkeys(chosen))


def check_sets(sets: list[ImageSet]) -> None:
    (real, fake) = sets
    if real.size != fake.size:
        raise DataError(
            f"sets differ in image size (real {real.size[0]}x{real.size[1]}, fake {fake.size[0]}x{fake.size[1]}); "
            + CROP_HINT
        )
    for name, images in (("real", real), ("fake", fake)):
        if len(images) < 2:
            raise DataError(f"set {name!r} has {len(images)} images; attribution needs at least 2 per set")


def is_run_folder(source) -> bool:
    return isinstance(source, (str, os.PathLike)) and (Path(source) / "results.csv").is_file()


def load_model(
    source, variant: str, seed: int | None, recipe: str | None, weights, device: torch.device
) -> tuple[nn.Module, dict | None]:
    """The classifier, and for a study the table row of its run (``held_out.study_run``)."""
    if not isinstance(source, AblationResult):
        if seed is not None or recipe is not None:
            raise FreqprobeError("seed= and recipe= pick a study's model; this model is not a study")
        return resolve_model(source, weights=weights, device=device), None
    if weights is not None:
        raise FreqprobeError("weights= goes with a module:factory model; a study loads its own weights")
    run = study_run(source, variant, seed, recipe)
    if run is None:  # let the study say what it has
        return source.model(variant, seed, recipe=recipe, device=device), None
    return source.model(variant, int(run["seed"]), str(run["task"]), str(run["recipe"]), device), run


def describe_model(source) -> str:
    if isinstance(source, AblationResult):
        return f"study {source.folder}" if source.folder else "study (in memory)"
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return type(source).__name__


def stem_stride(model: object) -> int:
    """The stride of a model's first layer (a strided stem aliases at multiples of 1/stride
    cycles/pixel); 1 for a callable that is not a module or has no strided first layer."""
    if not isinstance(model, nn.Module):
        return 1
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.stride[0])
        stride = getattr(module, "stride", None)
        if module is not model and isinstance(stride, int):
            return stride
    return 1
