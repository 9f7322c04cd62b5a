"""Band attribution: the gain model's exactness, Captum's axioms, and classifiers with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.attribution import BandLayout
from freqprobe.attribution.band_gains import BandGainModel, band_attributions

from synthetic import natural_like, planted_sets

PLANTED = (0.25, 0.125)  # radius 0.2795: ring 3 of 8 equal rings (0.265-0.354)
PLANTED_BAND = 3


class RingEnergy(nn.Module):
    """Logits ``(0, scale * power of the image in one radius ring)``: decides on that ring alone."""

    def __init__(self, size: int, low: float, high: float, scale: float = 1.0) -> None:
        super().__init__()
        radius = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :])
        self.register_buffer("ring", torch.from_numpy((radius >= low) & (radius <= high)).float())
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        power = (torch.fft.fft2(x).abs() ** 2 * self.ring).sum(dim=(1, 2, 3)) / x.shape[-1] ** 2
        return torch.stack([torch.zeros_like(power), self.scale * power], dim=1)


def random_convnet() -> nn.Module:
    """A small nonlinear classifier with fixed random weights."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 16, 3, stride=2), nn.GELU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 2),
    )  # fmt: skip
    with torch.no_grad():
        net[0].weight.mul_(10)  # far from linear: integrated gradients need their steps
        net[-1].weight.mul_(50)  # scores that move by about 1 between an image and a black one
    return net.eval()


def gains_model(model: nn.Module, layout: BandLayout, size: int = 32) -> BandGainModel:
    return BandGainModel(model, layout.half_masks(size, size))


def batches(x: torch.Tensor, targets: torch.Tensor, step: int = 4):
    return ((x[i : i + step], targets[i : i + step]) for i in range(0, len(x), step))


@pytest.mark.parametrize("sectors", [1, 4])
def test_gains_of_one_reproduce_the_logits_exactly(sectors: int) -> None:
    model, x = random_convnet(), natural_like(6, 32, 32)
    layout = BandLayout.build(8, sectors)
    out = gains_model(model, layout)(torch.ones(6, len(layout.cells(32, 32))), x)
    assert torch.equal(out, model(x))


def test_frequencies_outside_every_band_keep_their_gain() -> None:
    """Edges starting above 0: DC and the lowest ring belong to no band and are never removed."""
    model, x = random_convnet(), natural_like(4, 32, 32, seed=5)
    gain_model = gains_model(model, BandLayout.build([0.1, 0.3, 0.7072]))
    assert torch.equal(gain_model(torch.ones(4, 2), x), model(x))
    kept = gain_model.band_weighted(torch.zeros(4, 2), x)  # every band off: what no band covers remains
    radius = np.hypot(np.fft.fftfreq(32)[:, None], np.fft.fftfreq(32)[None, :])
    expected = np.fft.ifft2(np.fft.fft2(x.double().numpy()) * (radius < 0.1)).real
    np.testing.assert_allclose(kept.numpy(), expected, atol=1e-5)
    assert abs(kept.mean() - x.mean()) < 1e-5  # the image mean (DC) is untouched


def test_one_band_alone_is_an_ideal_band_pass() -> None:
    x = natural_like(3, 32, 32, seed=1)
    layout = BandLayout.build(8)
    gains = torch.zeros(3, 8)
    gains[:, 2] = 1
    kept = gains_model(nn.Identity(), layout).band_weighted(gains, x)
    radius = np.hypot(np.fft.fftfreq(32)[:, None], np.fft.fftfreq(32)[None, :])
    mask = (radius >= layout.edges[2]) & (radius < layout.edges[3])
    expected = np.fft.ifft2(np.fft.fft2(x.double().numpy()) * mask).real
    np.testing.assert_allclose(kept.numpy(), expected, atol=1e-5)


def test_ablation_is_the_score_drop_when_a_band_is_removed_by_hand() -> None:
    model, x = random_convnet(), natural_like(5, 32, 32, seed=2)
    layout, targets = BandLayout.build(4), torch.tensor([0, 1, 1, 0, 1])
    options = {"shapley_samples": 1, "ig_steps": 1, "max_batch": 64}
    values = band_attributions(gains_model(model, layout), batches(x, targets), "ablation", **options)
    radius = np.hypot(np.fft.fftfreq(32)[:, None], np.fft.fftfreq(32)[None, :])
    spectrum = np.fft.fft2(x.double().numpy())
    score = model(x).gather(1, targets[:, None])[:, 0]
    for band in range(4):
        ring = (radius >= layout.edges[band]) & ((radius < layout.edges[band + 1]) | (band == 3))
        removed = torch.from_numpy(np.fft.ifft2(spectrum * ~ring).real).float()
        expected = score - model(removed).gather(1, targets[:, None])[:, 0]
        np.testing.assert_allclose(values[:, band].numpy(), expected.detach().numpy(), atol=2e-4)


@pytest.mark.parametrize(("method", "tolerance"), [("ig", 1e-3), ("shapley", 1e-5)])
def test_attributions_sum_to_the_score_with_all_bands_minus_none(method: str, tolerance: float) -> None:
    model, x = random_convnet(), natural_like(6, 32, 32, seed=3)
    targets = torch.tensor([0, 1, 0, 1, 0, 1])
    options = {"shapley_samples": 3, "ig_steps": 32, "max_batch": 64}
    values = band_attributions(gains_model(model, BandLayout.build(6)), batches(x, targets), method, **options)
    full = model(x).gather(1, targets[:, None])[:, 0]
    empty = model(torch.zeros_like(x)).gather(1, targets[:, None])[:, 0]
    difference = (full - empty).detach().double()
    scale = float(difference.abs().max())
    assert scale > 0.5  # a real test: the scores move
    np.testing.assert_allclose(values.sum(dim=1).numpy(), difference.numpy(), atol=tolerance * scale)


def planted(n: int = 48) -> tuple[fp.ImageSet, fp.ImageSet]:
    real, fake = planted_sets(n, 32, *PLANTED, amplitude=0.06)
    return fp.ImageSet(real, origin="real"), fp.ImageSet(fake, origin="fake")


def test_a_ring_detector_ranks_its_ring_first_with_an_interval_above_the_others() -> None:
    real, fake = planted()
    detector = RingEnergy(32, 0.27, 0.29)
    report = fp.attribute(detector, real, fake, bands=8, pixel_methods=[], shapley_samples=2, device="cpu")
    over_all = report.table[report.table["images"] == "all"]
    for method, table in over_all.groupby("method"):
        top = table[table["rank"] == 1].iloc[0]
        others = table[table["band"] != top["band"]]
        assert top["band"] == PLANTED_BAND, method
        assert top["ci_low"] > others["ci_high"].max(), method


def test_a_classifier_trained_on_a_planted_frequency_ranks_its_band_first() -> None:
    real, fake = planted(n=240)
    study = fp.ablate(real, fake, ["original"], seeds=1, null=False, progress=False, device="cpu")
    report = fp.attribute(study, real, fake, bands=8, methods=["ablation", "ig"], pixel_methods=[], device="cpu")
    assert report.settings["n_images"] == [48, 48]  # the study's held-out test images
    for method, table in report.table[report.table["images"] == "all"].groupby("method"):
        top = table[table["rank"] == 1].iloc[0]
        assert top["band"] == PLANTED_BAND and top["ci_low"] > table[table["rank"] > 1]["ci_high"].max(), method
