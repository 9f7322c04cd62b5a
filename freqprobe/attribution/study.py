"""``fp.attribute``: which spectral bands and which pixels drive a classifier's real-vs-fake decision."""

from __future__ import annotations

import dataclasses
import operator
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .._version import __version__
from ..ablation import AblationResult
from ..data import ImageSet, load_images
from ..device import resolve_device
from ..errors import FreqprobeError
from ..models.state import restored
from ..transforms import Transform
from .band_gains import METHODS, BandGainModel, band_attributions
from .bands import BandLayout
from .fourier_maps import fourier_sensitivity
from .held_out import study_classes, study_test_images, subsample
from .importance import importance_table
from .inputs import (
    check_options, check_sets, check_variant, default_classes, describe_model, is_run_folder, load_model, stem_stride,
)  # fmt: skip
from .passes import Labelled, heatmap_maps, pixel_results, profile_table, seeded, swap_references
from .pixel_maps import PIXEL_METHODS, find_gradcam_layer
from .report import AttributionReport
from .scores import DecisionScores, count_logits, resolve_target

ImageSource = ImageSet | str | os.PathLike[str] | np.ndarray | torch.Tensor
ModelSource = AblationResult | nn.Module | Callable[[Tensor], Tensor] | str | os.PathLike[str]
#: What a band gain of 0 means: the other class's band (``swap``) or nothing (``zero``).
BASELINES = ("swap", "zero")


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
    others: Sequence[ImageSource] = (),
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
        others: a K-way study's other generated sets: its split needs all of its sets, so
            with them ``real`` and ``fake`` are attributed on the study's test images only.
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
    counts = dict(n_images=n_images, pixel_images=pixel_images, heatmap_images=heatmap_images,
                  shapley_samples=shapley_samples, ig_steps=ig_steps, bootstrap=bootstrap, batch_size=batch_size)  # fmt: skip
    layout, methods, pixel_methods = check_options(bands, sectors, methods, pixel_methods, target, **counts)
    if not heatmap_eps > 0:
        raise FreqprobeError(f"heatmap_eps={heatmap_eps} must be > 0")
    if classes is not None and len(classes) != 2:
        raise FreqprobeError(f"classes={tuple(classes)}: give the logit indices of the real and the fake class")
    if baseline not in BASELINES:
        raise FreqprobeError(f"baseline={baseline!r}; choose {' or '.join(BASELINES)}")
    device = resolve_device(device)
    sets, variant_transform = _resolve_images(real, fake, layout, variant, pixel_methods)
    study = AblationResult.load(source) if is_run_folder(source) else source
    with restored(source):  # the caller's module comes back as it was: mode, in-place flags, device
        decision = _Decision.build(study, sets, variant_transform, seed, recipe, weights, classes, target, device)
        if "gradcam" in pixel_methods:
            decision.layer = find_gradcam_layer(decision.model, gradcam_layer, variant_transform(decision.sample))
        generator = torch.Generator().manual_seed(sample_seed)
        other_sets = [o if isinstance(o, ImageSet) else load_images(o) for o in others]
        sets, images_note = _choose_images(study, decision.run, sets, other_sets, n_images, generator)
        references = swap_references(sets, sample_seed) if baseline == "swap" else None
        labelled = Labelled(sets, decision.target, device, max(1, batch_size // 8), references)
        per_image = _band_attributions(decision.scores, labelled, layout, methods, sample_seed, device,
                                       shapley_samples=shapley_samples, ig_steps=ig_steps, max_batch=batch_size)  # fmt: skip
        height, width = sets[0].size
        bands_table = importance_table(per_image, labelled.labels.numpy(), layout.table(height, width), bootstrap, sample_seed)
        sensitivity = fourier_sensitivity(decision.scores, labelled.batches(with_labels=True), height, width)
        if not torch.isfinite(sensitivity).all():
            raise FreqprobeError("the Fourier sensitivity is NaN or infinite: the model's gradients are not finite")
        maps: dict[str, np.ndarray] = {"fourier_sensitivity": sensitivity.numpy(), "labels": labelled.labels.numpy()}
        maps.update({f"band_{method}": values for method, values in per_image.items()})
        with seeded(sample_seed, device):  # SmoothGrad's noise too
            maps.update(
                pixel_results(decision.scores, labelled, pixel_methods, pixel_images, ig_steps, batch_size, decision.layer)
            )
        settings = {
            "version": __version__, "model": describe_model(source), "variant": str(variant_transform),
            **decision.described(), "target": target, "baseline": baseline, "images": images_note,
            "n_images": [len(s) for s in sets], "origins": [s.origin for s in sets], "height": height, "width": width,
            "edges": list(layout.edges), "sectors": layout.sectors, "methods": list(methods),
            "pixel_methods": list(pixel_methods), "shapley_samples": shapley_samples, "ig_steps": ig_steps,
            "bootstrap": bootstrap, "sample_seed": sample_seed, "device": str(device),
        }  # fmt: skip
        if heatmap:
            shown = [images[:heatmap_images] for images in sets]
            error_maps, clean_errors = heatmap_maps(
                decision.scores, shown, decision.classes, heatmap_eps, batch_size, generator, device
            )
            maps["heatmap"] = error_maps.numpy()
            settings.update(
                heatmap_eps=heatmap_eps, heatmap_images=[len(s) for s in shown], clean_error=clean_errors.tolist()
            )
        return AttributionReport(bands_table, profile_table(sensitivity), maps, settings)


def _resolve_images(
    real: ImageSource, fake: ImageSource, layout: BandLayout, variant: str, pixel_methods: Sequence[str]
) -> tuple[list[ImageSet], Transform]:
    """The two sets, checked against each other and the band layout, and the parsed variant."""
    sets = [source if isinstance(source, ImageSet) else load_images(source) for source in (real, fake)]
    check_sets(sets)
    height, width = sets[0].size
    layout.check_size(height, width)
    empty = layout.empty_cells(height, width)
    if empty:
        listed = ", ".join(f"[{lo:.3g}, {hi:.3g}) {a:g}-{b:g} deg" for lo, hi, a, b in empty[:3])
        warnings.warn(
            f"bands: {len(empty)} ring sectors hold no frequency of a {height}x{width} image and are left out "
            f"({listed}{', ...' if len(empty) > 3 else ''}); use fewer sectors or bands for them",
            stacklevel=3,
        )
    return sets, check_variant(variant, (height, width), pixel_methods)


@dataclasses.dataclass
class _Decision:
    """The model, which of its logits are real and fake, and the score attributed."""

    model: nn.Module
    run: dict | None
    classes: tuple[int, int]
    target: Any
    scores: DecisionScores
    sample: Tensor
    layer: nn.Module | None = None

    @classmethod
    def build(cls, study, sets, variant_transform, seed, recipe, weights, classes, target, device) -> _Decision:
        model, run = load_model(study, str(variant_transform), seed, recipe, weights, device)
        sample = torch.cat([s[:1].float(device) for s in sets])
        n_logits = count_logits(lambda x: model(variant_transform(x)), sample)
        hint = study_classes(study, run, *sets) if isinstance(study, AblationResult) else None
        classes = default_classes(classes, n_logits, hint)
        chosen = resolve_target(target, classes, n_logits)
        applied = None if str(variant_transform) == "original" else variant_transform
        return cls(model, run, classes, chosen, DecisionScores(model, chosen, applied), sample)

    def described(self) -> dict[str, Any]:
        """The settings that say which model decided: its study run, classes and stem stride."""
        run = self.run
        return {
            "seed": None if run is None else int(run["seed"]),
            "recipe": None if run is None else str(run["recipe"]),
            "classes": list(self.classes),
            "stem_stride": stem_stride(self.model),
        }


def _choose_images(
    study: Any, run: dict | None, sets: list[ImageSet], others: list[ImageSet], n_images: int, generator: torch.Generator
) -> tuple[list[ImageSet], str]:
    """Up to ``n_images`` per class: of a study's own sets its held-out test images, else any."""
    held_out, note = (None, "all images (a model, not a study)")
    if isinstance(study, AblationResult):
        held_out, note = study_test_images(study, run, *sets, others)
    positions = held_out or tuple(torch.arange(len(images)) for images in sets)
    chosen = [images[index[subsample(len(index), n_images, generator)]] for images, index in zip(sets, positions)]
    if [len(s) for s in chosen] != [len(index) for index in positions]:
        note += f"; {len(chosen[0])} real and {len(chosen[1])} fake of them drawn (n_images={n_images})"
    return chosen, note


def _band_attributions(
    scores: DecisionScores,
    labelled: Labelled,
    layout: BandLayout,
    methods: Sequence[str],
    sample_seed: int,
    device: torch.device,
    **options: int,
) -> dict[str, np.ndarray]:
    """Per method, the ``(N, bands)`` attributions of every chosen image."""
    height, width = labelled.sets[0].size
    gain_model = BandGainModel(scores, layout.half_masks(height, width, device))
    per_image = {}
    for method in methods:
        with seeded(sample_seed, device):  # Shapley's band orders come from torch's global generator
            values = band_attributions(gain_model, labelled.batches(with_references=True), method, **options)
            per_image[method] = finite(values.numpy(), f"{method} band attributions")
    return per_image


def finite(values: np.ndarray, what: str) -> np.ndarray:
    """``values``, or a one-line error when any is NaN or infinite (never a number in a table)."""
    bad = ~np.isfinite(values)
    if bad.any():
        images = int(bad.reshape(len(bad), -1).any(axis=1).sum())
        raise FreqprobeError(
            f"{what} are NaN or infinite for {images} of {len(values)} images: the model's outputs are not finite "
            "numbers on them; check the model"
        )
    return values
