"""What the band importances measure: the real-vs-fake decision, not the model's sensitivity.

A known answer (a trained classifier that must find a faint planted ring, not the ring with
the image mean), the swap baseline, class-balanced means, the logit classes of a model with
more outputs, the caller's model left as it was, and a study's sets given swapped.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.attribution import BandLayout
from freqprobe.attribution.band_gains import METHODS, BandGainModel, band_attributions
from freqprobe.attribution.importance import importance_table
from freqprobe.errors import FreqprobeError

from synthetic import natural_like

RADIUS = 0.3  # in ring 3 of 8 equal rings (0.265-0.354)


def sinusoid_sets(n: int = 240, amplitude: float = 0.03, seed: int = 2, size: int = 32):
    """Real: smooth random (1/f) images; fake: other such images plus a faint sinusoid of
    radius 0.3 cycles/pixel (amplitude 0.03: about 8 grey levels)."""
    real = natural_like(n, size, size, seed=seed)
    fake = natural_like(n, size, size, seed=seed + 1)
    yy, xx = np.mgrid[:size, :size]
    phase = 2 * np.pi * RADIUS * (np.cos(0.5) * yy + np.sin(0.5) * xx)
    fake = fake + torch.from_numpy(amplitude * np.cos(phase)).float()
    as_set = lambda x, origin: fp.ImageSet((x.clamp(0, 1) * 255).round().to(torch.uint8), origin=origin)  # noqa: E731
    return as_set(real, "real"), as_set(fake, "fake")


def test_a_trained_classifier_ranks_the_planted_ring_first_not_the_ring_with_the_image_mean() -> None:
    """With gain 0 as removal and the own logit (the former default) the ring with DC came
    first for Shapley values here (ablation: not clear of it): removing the image mean
    moves every image off the data, and the output moves with it whatever the class.
    Swapping in the other class's band and attributing the margin measures the decision."""
    real, fake = sinusoid_sets()
    study = fp.ablate(real, fake, ["original"], seeds=1, null=False, progress=False, recipe="plain", device="cpu")
    report = fp.attribute(study, real, fake, pixel_methods=[], device="cpu")  # default bands and methods
    assert report.settings["baseline"] == "swap" and report.settings["target"] == "margin"
    over_all = report.table[report.table["images"] == "all"]
    assert sorted(set(over_all["method"])) == sorted(METHODS)
    for method, table in over_all.groupby("method"):
        top = table[table["rank"] == 1].iloc[0]
        assert top["f_lo"] <= RADIUS < top["f_hi"], method
        assert top["ci_low"] > table[table["rank"] > 1]["ci_high"].max(), method


def test_gain_zero_puts_the_reference_band_in_place() -> None:
    x, r = natural_like(3, 32, 32, seed=1), natural_like(3, 32, 32, seed=2)
    layout = BandLayout.build(8)
    gains = torch.ones(3, 8)
    gains[:, 0] = 0  # the ring with DC: the image mean comes from the reference too
    mixed = BandGainModel(nn.Identity(), layout.half_masks(32, 32)).band_weighted(gains, x, r)
    radius = np.hypot(np.fft.fftfreq(32)[:, None], np.fft.fftfreq(32)[None, :])
    ring = (radius >= layout.edges[0]) & (radius < layout.edges[1])
    expected = np.fft.ifft2(np.fft.fft2(x.double().numpy()) * ~ring + np.fft.fft2(r.double().numpy()) * ring).real
    np.testing.assert_allclose(mixed.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(mixed.mean(dim=(2, 3)), r.mean(dim=(2, 3)), atol=1e-5)


def test_swap_attributions_sum_to_the_score_minus_the_reference_score() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
    x, r = natural_like(4, 32, 32, seed=3), natural_like(4, 32, 32, seed=4)
    targets = torch.tensor([0, 1, 0, 1])
    gain_model = BandGainModel(model, BandLayout.build(6).half_masks(32, 32))
    options = {"shapley_samples": 3, "ig_steps": 1, "max_batch": 64}
    values = band_attributions(gain_model, iter([(x, targets, r)]), "shapley", **options)
    expected = (model(x) - model(r)).gather(1, targets[:, None])[:, 0].detach().double()
    np.testing.assert_allclose(values.sum(dim=1).numpy(), expected.numpy(), atol=1e-5)


def test_all_images_weigh_the_two_classes_equally() -> None:
    values = np.random.default_rng(0).normal(size=(30, 3)) + np.r_[[0.0, 1.0, 2.0]]
    labels = np.r_[np.zeros(20, int), np.ones(10, int)]
    bands = BandLayout.build(3).table(16, 16)
    table = importance_table({"ablation": values}, labels, bands, n_boot=200, seed=0)
    over_all = table[table["images"] == "all"].sort_values("band")
    expected = (values[labels == 0].mean(axis=0) + values[labels == 1].mean(axis=0)) / 2
    np.testing.assert_allclose(over_all["importance"], expected)
    assert (over_all["ci_low"] <= over_all["importance"]).all()
    assert (over_all["importance"] <= over_all["ci_high"]).all()


def three_outputs() -> nn.Module:
    """A model with 3 logits (for ``module:factory``)."""
    torch.manual_seed(2)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def test_a_model_with_more_outputs_needs_its_classes() -> None:
    real, fake = fp.demo_sets(n=6, size=16)
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": [], "device": "cpu"}
    with pytest.raises(FreqprobeError, match=r"the model gives 3 logits: say which .* classes=\(REAL, FAKE\)") as err:
        fp.attribute(three_outputs(), real, fake, **options)
    assert "\n" not in str(err.value)
    report = fp.attribute(three_outputs(), real, fake, classes=(2, 0), target="true", **options)
    assert report.settings["classes"] == [2, 0]
    by_logit = fp.attribute(three_outputs(), real, fake, classes=(2, 0), target=2, **options).maps["band_ablation"]
    np.testing.assert_allclose(report.maps["band_ablation"][:6], by_logit[:6], atol=1e-6)  # real images: logit 2


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def test_the_callers_model_comes_back_as_it_was() -> None:
    real, fake = fp.demo_sets(n=6, size=16)
    options = {"bands": 4, "methods": ["ablation"], "device": "cpu"}
    model = Net().train()
    report = fp.attribute(model, real, fake, pixel_methods=["gradcam"], **options)
    assert all(module.training for module in model.modules())
    assert model.features[2].inplace is True
    # attributed in eval mode (BatchNorm's running statistics, no dropout)
    evaluated = fp.attribute(Net().eval(), real, fake, pixel_methods=[], **options)
    np.testing.assert_allclose(report.maps["band_ablation"], evaluated.maps["band_ablation"], atol=1e-6)
    with pytest.raises(FreqprobeError, match="gradcam_layer='nope' is not a module"):
        fp.attribute(model, real, fake, pixel_methods=["gradcam"], gradcam_layer="nope", **options)
    assert all(module.training for module in model.modules()) and model.features[2].inplace is True


def test_the_study_sets_given_swapped_are_refused_in_one_line() -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    study = fp.ablate(real, fake, ["original"], seeds=1, null=False, progress=False, device="cpu")
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": [], "device": "cpu"}
    with pytest.raises(FreqprobeError, match="the study's fake and real sets, swapped") as err:
        fp.attribute(study, fake, real, **options)
    assert "\n" not in str(err.value)
    with pytest.warns(UserWarning, match="the fake set is the study's real set"):
        report = fp.attribute(study, fake[:20], real, **options)
    assert report.settings["images"].startswith("all images")
