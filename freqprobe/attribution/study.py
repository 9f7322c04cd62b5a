"""``fp.attribute``: which spectral bands and which pixels drive a classifier's real-vs-fake decision."""

from __future__ import annotations

import contextlib
import operator
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from .._version import __version__
from ..ablation import AblationResult, resolve_model
from ..data import ImageSet, load_images
from ..data.sizing import CROP_HINT
from ..device import resolve_device
from ..errors import DataError, FreqprobeError
from ..models.state import restored
from ..transforms import Transform, transform
from .band_gains import METHODS, BandGainModel, band_attributions
from .bands import BandLayout
from .fourier_maps import fourier_heatmap, fourier_sensitivity, radial_profile
from .held_out import study_classes, study_run, study_test_images, subsample
from .importance import importance_table
from .pixel_maps import PIXEL_METHODS, find_gradcam_layer, pixel_maps
from .report import CLASS_NAMES, AttributionReport
from .scores import TARGETS, DecisionScores, Target, count_logits, resolve_target

ImageSource = ImageSet | str | os.PathLike[str] | np.ndarray | torch.Tensor
ModelSource = AblationResult | nn.Module | Callable[[Tensor], Tensor] | str | os.PathLike[str]
#: Pixel-map examples drawn per class in the per-image figures.
SHOWN_PER_CLASS = 4
#: What a band gain of 0 means: the other class's band (``swap``) or nothing (``zero``).
BASELINES = ("swap", "zero")
#: Keeps the references' draw apart from the images' draw of the same ``sample_seed``.
REFERENCE_SEED_OFFSET = 7919


def attribute(
    source: ModelSource,
    real: ImageSource,
    fake: ImageSource,
    bands: int | Sequence[float] = 8,
    *,
    methods: Sequence[str] = METHODS,
    sectors: int = 1,
    pixel_methods: Sequence[str] = PIXEL_METHODS,
    heatmap: bool = False,
    target: str | int = "margin",
    classes: tuple[int, int] | None = None,
    baseline: str = "swap",
    variant: str = "original",
    seed: int | None = None,
    recipe: str | None = None,
    weights: str | os.PathLike | None = None,
    n_images: int = 256,
    pixel_images: int = 64,
    heatmap_images: int = 32,
    heatmap_eps: float = 4.0,
    shapley_samples: int = 8,
    ig_steps: int = 32,
    bootstrap: int = 1000,
    sample_seed: int = 0,
    batch_size: int = 256,
    gradcam_layer: str | None = None,
    device: str | torch.device = "auto",
) -> AttributionReport:
    """Attribute a classifier's decision to spectral bands, Fourier coefficients and pixels.

    Args:
        source: an ``AblationResult`` or an ``fp.ablate`` run folder (its model trained on
            ``variant`` with ``seed``), an ``nn.Module``, a callable, ``"module:factory"``
            (with ``weights``) or a TorchScript file; it maps float images in [0, 1],
            ``(N, 3, H, W)``, to ``(N, K)`` logits.
        real, fake: the two sets (``ImageSet`` or anything ``load_images`` reads). With a
            study and its own sets, only the study's held-out test images are used.
        bands: the number of equal radial rings over ``[0, sqrt(0.5)]``, or their edges
            in cycles/pixel (``freqprobe.attribution.bands``).
        methods: band attribution methods, of ``ablation``, ``shapley``, ``ig``.
        sectors: orientation sectors per ring.
        pixel_methods: of ``ig``, ``smoothgrad``, ``gradcam``, ``occlusion`` (``()`` for none).
        heatmap: also compute the Fourier heat map (Yin et al.; H x (W/2 + 1) passes over
            ``heatmap_images`` per class, the costly part).
        target: ``"margin"`` (own class logit minus the other's: the decision), ``"true"``
            (each image's own class logit) or a logit index (``freqprobe.attribution.scores``).
        classes: the logit indices of the real and the fake class; default ``(0, 1)`` for a
            model with 2 outputs, required for any other number of outputs.
        baseline: what a band's gain of 0 means for the band methods: ``"swap"`` (default)
            puts in the band of an image of the other class (drawn with ``sample_seed``), so
            an importance measures how much a band's *difference between the classes* moves
            the score; ``"zero"`` removes the band (with DC, the image mean: far from the data).
        variant: the images pass through this transform before the model (for a study:
            also which of its models). Band gains, the Fourier maps and the pixel maps act
            on the image before it; for a representation (``repr:dct8``, ...) the model
            reads the representation, and ``gradcam`` is refused (its feature maps are not
            on the image's pixel grid).
        seed: the study's training seed (default its first).
        recipe: the study's training recipe (its ``recipe`` column; default its first).
        weights: a state dict for a ``module:factory`` model (loaded with ``weights_only``).
        n_images: images per class for band attribution and the Fourier sensitivity.
        pixel_images: images per class for the mean pixel maps.
        heatmap_images, heatmap_eps: images per class, and the L2 norm per channel of the
            added Fourier basis image.
        shapley_samples: random band orders per image (``ShapleyValueSampling``).
        ig_steps: integration steps of integrated gradients.
        bootstrap: resamples of images for the 95% intervals.
        sample_seed: seeds the choice of images, the bootstrap and the heat map's signs.
        batch_size: the most images in one forward pass.
        gradcam_layer: the module name (``model.named_modules()``) for Grad-CAM; default the
            last block with a feature map larger than 1x1. With ``gradcam``, the model's
            in-place activations are switched off (Captum's hooks need their outputs intact)
            while it runs.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda:1"``, ...

    A model given as an ``nn.Module`` is attributed in eval mode on ``device`` and comes back
    as it was, also after an error: every module's training flag, in-place flags, and the
    device of its parameters.

    Returns:
        An ``AttributionReport`` (``.table``, ``.save(dir)``, ``.plot()``).

    Raises:
        FreqprobeError: unknown methods, bands outside the spectrum or empty at this size,
            a model that does not map (N, 3, H, W) to (N, K) logits, a target or class out
            of range, no ``classes`` for a model with other than 2 outputs, sets of different sizes, a variant fitted on a set, ``gradcam``
            through a representation, ``seed``/``recipe`` without a study or ``weights``
            with one — all before any attribution.

    Example:
        >>> import torch, freqprobe as fp
        >>> real, fake = fp.demo_sets(n=8, size=16)
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 2))
        >>> report = fp.attribute(net, real, fake, bands=4, methods=["ablation"], pixel_methods=[], device="cpu")
        >>> report.ranking.columns.tolist(), sorted(set(report.table["images"]))
        (['band', 'f_lo', 'f_hi', 'ablation'], ['all', 'fake', 'real'])
    """
    if not isinstance(target, (str, bool)) and hasattr(target, "__index__"):
        target = operator.index(target)  # a NumPy integer too (settings.json takes plain ints)
    layout, methods, pixel_methods = check_options(
        bands,
        sectors,
        methods,
        pixel_methods,
        target,
        n_images=n_images,
        pixel_images=pixel_images,
        heatmap_images=heatmap_images,
        shapley_samples=shapley_samples,
        ig_steps=ig_steps,
        bootstrap=bootstrap,
        batch_size=batch_size,
    )
    if not heatmap_eps > 0:
        raise FreqprobeError(f"heatmap_eps={heatmap_eps} must be > 0")
    if classes is not None and len(classes) != 2:
        raise FreqprobeError(f"classes={tuple(classes)}: give the logit indices of the real and the fake class")
    if baseline not in BASELINES:
        raise FreqprobeError(f"baseline={baseline!r}; choose {' or '.join(BASELINES)}")
    device = resolve_device(device)
    sets = [source_set if isinstance(source_set, ImageSet) else load_images(source_set) for source_set in (real, fake)]
    _check_sets(sets)
    height, width = sets[0].size
    layout.check_size(height, width)
    empty = layout.empty_cells(height, width)
    if empty:
        listed = ", ".join(f"[{lo:.3g}, {hi:.3g}) {a:g}-{b:g} deg" for lo, hi, a, b in empty[:3])
        warnings.warn(
            f"bands: {len(empty)} ring sectors hold no frequency of a {height}x{width} image and are left out "
            f"({listed}{', ...' if len(empty) > 3 else ''}); use fewer sectors or bands for them",
            stacklevel=2,
        )
    variant_transform = check_variant(variant, (height, width), pixel_methods)

    study = AblationResult.load(source) if _is_run_folder(source) else source
    with restored(source):  # the caller's module comes back as it was: mode, in-place flags, device
        model, run = _load_model(study, str(variant_transform), seed, recipe, weights, device)
        sample = torch.cat([s[:1].float(device) for s in sets])
        n_logits = count_logits(lambda x: model(variant_transform(x)), sample)
        hint = study_classes(study, run, *sets) if isinstance(study, AblationResult) else None
        classes = default_classes(classes, n_logits, hint)
        chosen_target = resolve_target(target, classes, n_logits)
        applied = None if str(variant_transform) == "original" else variant_transform
        scores = DecisionScores(model, chosen_target, applied)
        if "gradcam" in pixel_methods:
            layer = find_gradcam_layer(model, gradcam_layer, variant_transform(sample))
        else:
            layer = None

        held_out, images_note = (None, "all images (a model, not a study)")
        if isinstance(study, AblationResult):
            held_out, images_note = study_test_images(study, run, *sets)
        generator = torch.Generator().manual_seed(sample_seed)
        positions = held_out or tuple(torch.arange(len(images)) for images in sets)
        sets = [images[index[subsample(len(index), n_images, generator)]] for images, index in zip(sets, positions)]
        if [len(s) for s in sets] != [len(index) for index in positions]:
            images_note += f"; {len(sets[0])} real and {len(sets[1])} fake of them drawn (n_images={n_images})"
        references = _references(sets, sample_seed) if baseline == "swap" else None
        labelled = _Labelled(sets, chosen_target, device, max(1, batch_size // 8), references)

        gain_model = BandGainModel(scores, layout.half_masks(height, width, device))
        per_image = {}
        for method in methods:
            with seeded(sample_seed, device):  # Shapley's band orders come from torch's global generator
                values = band_attributions(
                    gain_model, labelled.batches(with_references=True), method,
                    shapley_samples=shapley_samples, ig_steps=ig_steps, max_batch=batch_size,
                )  # fmt: skip
            per_image[method] = finite(values.numpy(), f"{method} band attributions")
        table = layout.table(height, width)
        bands_table = importance_table(per_image, labelled.labels.numpy(), table, bootstrap, sample_seed)
        sensitivity = fourier_sensitivity(scores, labelled.batches(with_labels=True), height, width)
        if not torch.isfinite(sensitivity).all():
            raise FreqprobeError("the Fourier sensitivity is NaN or infinite: the model's gradients are not finite; check the model")
        maps: dict[str, np.ndarray] = {"fourier_sensitivity": sensitivity.numpy(), "labels": labelled.labels.numpy()}
        maps.update({f"band_{method}": values for method, values in per_image.items()})
        with seeded(sample_seed, device):  # SmoothGrad's noise too
            maps.update(_pixel_results(scores, labelled, pixel_methods, pixel_images, ig_steps, batch_size, layer))
        settings = {
            "version": __version__,
            "model": _describe(source),
            "variant": str(variant_transform),
            "seed": None if run is None else int(run["seed"]),
            "recipe": None if run is None else str(run["recipe"]),
            "target": target,
            "classes": list(classes),
            "baseline": baseline,
            "images": images_note,
            "n_images": [len(s) for s in sets],
            "origins": [s.origin for s in sets],
            "height": height,
            "width": width,
            "edges": list(layout.edges),
            "sectors": layout.sectors,
            "methods": list(methods),
            "pixel_methods": list(pixel_methods),
            "shapley_samples": shapley_samples,
            "ig_steps": ig_steps,
            "bootstrap": bootstrap,
            "sample_seed": sample_seed,
            "device": str(device),
        }
        if heatmap:
            shown = [images[:heatmap_images] for images in sets]
            error_maps, clean_errors = _heatmap(scores, shown, classes, heatmap_eps, batch_size, generator, device)
            maps["heatmap"] = error_maps.numpy()
            settings.update(
                heatmap_eps=heatmap_eps, heatmap_images=[len(s) for s in shown], clean_error=clean_errors.tolist()
            )
        return AttributionReport(bands_table, _profile_table(sensitivity), maps, settings)


def finite(values: np.ndarray, what: str) -> np.ndarray:
    """``values``, or a one-line error when any is NaN or infinite (never a number in a table)."""
    bad = ~np.isfinite(values)
    if bad.any():
        images = int(bad.reshape(len(bad), -1).any(axis=1).sum()) if bad.ndim > 1 else int(bad.sum())
        raise FreqprobeError(
            f"{what} are NaN or infinite for {images} of {len(values)} images: the model's outputs are not finite "
            "numbers on them; check the model"
        )
    return values


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


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's global generators for the block and restore them after (the caller's RNG is untouched)."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


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


def _references(sets: list[ImageSet], seed: int) -> list[Tensor]:
    """For every image, the position of its reference in the other class's set (``baseline="swap"``).

    Each class cycles through a seeded permutation of the other class, so with equal counts
    every image is some image's reference exactly once.
    """
    generator = torch.Generator().manual_seed(seed + REFERENCE_SEED_OFFSET)
    chosen = []
    for own, other in ((sets[0], sets[1]), (sets[1], sets[0])):
        order = torch.randperm(len(other), generator=generator)
        chosen.append(order[torch.arange(len(own)) % len(other)])
    return chosen


class _Labelled:
    """The chosen real and fake images as batches of ``(float images, Captum targets[, labels | references])``."""

    def __init__(
        self,
        sets: list[ImageSet],
        target: Target,
        device: torch.device,
        batch: int,
        references: list[Tensor] | None = None,
    ) -> None:
        self.sets, self.target, self.device, self.batch = sets, target, device, batch
        self.references = references
        self.labels = torch.cat([torch.full((len(s),), k) for k, s in enumerate(sets)])

    def batches(
        self, with_labels: bool = False, per_class: int | None = None, with_references: bool = False
    ) -> Iterator[tuple[Tensor, ...]]:
        """``with_references``: band batches, ``(images, targets, references)`` for ``swap`` and
        ``(images, targets)`` for ``zero``."""
        for label, images in enumerate(self.sets):
            images = images if per_class is None else images[:per_class]
            for start, x in zip(range(0, len(images), self.batch), images.batches(self.batch, self.device)):
                labels = torch.full((x.shape[0],), label, device=self.device)
                targets = self.target.indices(labels)
                if with_references and self.references is not None:
                    positions = self.references[label][start : start + x.shape[0]]
                    yield x, targets, self.sets[1 - label][positions].float(self.device)
                else:
                    yield (x, targets, labels) if with_labels else (x, targets)


def _pixel_results(
    scores: nn.Module,
    labelled: _Labelled,
    methods: list[str],
    per_class: int,
    ig_steps: int,
    max_batch: int,
    layer: nn.Module | None,
) -> dict[str, np.ndarray]:
    """Mean maps per class over ``per_class`` images, and the maps of the first few of each class."""
    if not methods:
        return {}
    n_shown = min(SHOWN_PER_CLASS, per_class)
    shown = [images[:n_shown] for images in labelled.sets]
    results = {
        "shown_images": torch.cat([s.images for s in shown]).cpu().numpy(),
        "shown_labels": np.concatenate([np.full(len(s), k) for k, s in enumerate(shown)]),
    }
    height, width = labelled.sets[0].size
    for method in methods:
        sums, counts = torch.zeros(2, height, width, dtype=torch.float64), torch.zeros(2)
        first: list[list[Tensor]] = [[], []]  # the maps of the shown images, per class
        for x, targets, labels in labelled.batches(with_labels=True, per_class=per_class):
            maps = pixel_maps(scores, x, targets, method, ig_steps=ig_steps, max_batch=max_batch, layer=layer)
            label = int(labels[0])  # a batch holds one class
            sums[label] += maps.double().sum(dim=0)
            first[label].append(maps[: max(0, n_shown - int(counts[label]))])
            counts[label] += maps.shape[0]
        results[f"pixel_mean_{method}"] = (sums / counts.clamp_min(1)[:, None, None]).numpy()
        results[f"pixel_{method}"] = torch.cat([*first[0], *first[1]]).numpy()
    return results


def _heatmap(
    scores: DecisionScores,
    shown: list[ImageSet],
    classes: Sequence[int],
    eps: float,
    max_batch: int,
    generator: torch.Generator,
    device: torch.device,
) -> tuple[Tensor, Tensor]:
    """Yin et al.'s heat map of ``scores.model`` (through the variant) on the real and fake ``shown`` images."""
    x = torch.cat([s.float(device) for s in shown])
    labels = torch.cat([torch.full((len(s),), k) for k, s in enumerate(shown)])
    return fourier_heatmap(scores.logits, x, torch.tensor(tuple(classes))[labels], labels, eps, max_batch, generator)


def _checked_methods(given: Sequence[str], known: tuple[str, ...], name: str) -> list[str]:
    chosen = [given] if isinstance(given, str) else list(given)
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise FreqprobeError(f"{name}: unknown {unknown[0]!r}; choose from {', '.join(known)}")
    return list(dict.fromkeys(chosen))


def _check_sets(sets: list[ImageSet]) -> None:
    (real, fake) = sets
    if real.size != fake.size:
        raise DataError(
            f"sets differ in image size (real {real.size[0]}x{real.size[1]}, fake {fake.size[0]}x{fake.size[1]}); "
            + CROP_HINT
        )
    for name, images in (("real", real), ("fake", fake)):
        if len(images) < 2:
            raise DataError(f"set {name!r} has {len(images)} images; attribution needs at least 2 per set")


def _is_run_folder(source) -> bool:
    return isinstance(source, (str, os.PathLike)) and (Path(source) / "results.csv").is_file()


def _load_model(
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


def _profile_table(sensitivity: Tensor) -> pd.DataFrame:
    """``sensitivity.csv``: the radial profile of each class's Fourier sensitivity map."""
    frequencies, profile = radial_profile(sensitivity)
    return pd.DataFrame(
        {
            "class": np.repeat(CLASS_NAMES, len(frequencies)),
            "f": np.tile(frequencies.numpy(), len(CLASS_NAMES)),
            "sensitivity": profile.numpy().ravel(),
        }
    )


def _describe(source) -> str:
    if isinstance(source, AblationResult):
        return f"study {source.folder}" if source.folder else "study (in memory)"
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return type(source).__name__
