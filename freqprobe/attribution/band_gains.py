"""Band attribution through Captum: the classifier as a function of one gain per spectral band.

``BandGainModel`` rebuilds each image ``x`` from its spectrum, every band mixed between the
image and a reference image ``r`` by its gain,
``x + irfft2(rfft2(x - r) * sum_b (gains_b - 1) * mask_b)``: linear in the gains; gain 1
keeps the image's band, gain 0 puts the reference's band in its place; frequencies outside
every band keep the image's content whatever the gains; with all gains 1 it is ``x + 0``,
so the classifier sees exactly its original input. ``fp.attribute`` takes as reference an
image of the *other* class (``baseline="swap"``), or none (``r = 0``, ``baseline="zero"``:
gain 0 removes the band).
Captum then attributes the score to the gains:

- ``ablation`` (``FeatureAblation``): score with all bands minus score with band b swapped
  (or removed);
- ``shapley`` (``ShapleyValueSampling``): band b's mean marginal contribution over random
  orders of switching bands from the reference's to the image's (interactions shared out);
- ``ig`` (``IntegratedGradients``): gains from 0 to 1 along a straight line; the
  attributions of an image sum to its score minus the score of the reference (within the bands).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

METHODS = ("ablation", "shapley", "ig")


class BandGainModel(nn.Module):
    """``scores(gains (N, B), images (N, C, H, W)[, references]) -> model(band-weighted images)``.

    Args:
        model: maps float images ``(N, C, H, W)`` to scores ``(N, K)``.
        half_masks: ``(B, H, W // 2 + 1)`` band masks on the ``rfft2`` half plane.
    """

    def __init__(self, model: nn.Module, half_masks: Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("half_masks", half_masks)

    def band_weighted(self, gains: Tensor, images: Tensor, references: Tensor | None = None) -> Tensor:
        """The images with every band mixed by its gain between the image (1) and the
        reference (0; no reference: zero, the band removed) — exactly the images for gains of 1.

        The change is built from ``gains - 1``, not ``sum_b gains_b * mask_b - 1``: a frequency
        outside every band (edges starting above 0) must keep its gain of 1, not lose it.
        """
        change = torch.einsum("nb,bhw->nhw", gains.to(self.half_masks.dtype) - 1.0, self.half_masks)
        difference = images if references is None else images - references
        return images + torch.fft.irfft2(torch.fft.rfft2(difference) * change[:, None], s=images.shape[-2:])

    def forward(self, gains: Tensor, images: Tensor, references: Tensor | None = None) -> Tensor:
        return self.model(self.band_weighted(gains, images, references))


def band_attributions(
    gain_model: BandGainModel,
    batches: Iterator[tuple[Tensor, ...]],
    method: str,
    *,
    shapley_samples: int,
    ig_steps: int,
    max_batch: int,
) -> Tensor:
    """Per-image attributions ``(N, B)`` (CPU, float64) of the scores to the band gains.

    ``batches`` yields ``(images, targets)`` (gain 0 removes a band) or ``(images, targets,
    references)`` (gain 0 puts the reference's band in its place) on the model's device;
    Captum's forward batches hold at most about ``max_batch`` images.
    """
    from captum.attr import FeatureAblation, IntegratedGradients, ShapleyValueSampling
    n_bands = gain_model.half_masks.shape[0]
    parts = []
    for images, targets, *references in batches:
        n = images.shape[0]
        gains = torch.ones(n, n_bands, device=images.device)
        per_eval = max(1, min(n_bands, max_batch // n))
        common = {"baselines": 0.0, "target": targets, "additional_forward_args": (images, *references)}
        if method == "ablation":
            values = FeatureAblation(gain_model).attribute(gains, perturbations_per_eval=per_eval, **common)
        elif method == "shapley":
            values = ShapleyValueSampling(gain_model).attribute(
                gains, n_samples=shapley_samples, perturbations_per_eval=per_eval, **common
            )
        else:
            values = IntegratedGradients(gain_model).attribute(
                gains, n_steps=ig_steps, internal_batch_size=max(n, max_batch), **common
            )
        parts.append(values.detach().double().cpu())
    return torch.cat(parts)
