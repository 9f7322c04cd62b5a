"""The default recipe's spectral read-out: a cross-fitted logistic regression on the linear
second opinion's features, whose held-out logits the network is trained on top of."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import freqprobe as fp
from freqprobe.errors import FreqprobeError
from freqprobe.data.demo import demo_photos, random_crops
from freqprobe.models import build_classifier
from freqprobe.models.spectral import SpectralReadout, fit_gain, fit_logistic, spectral_features, stratified_folds
from freqprobe.training import FilteredImages, LinearProbe, Recipe, train_classifier
from freqprobe.training.data import LabelledImages
from freqprobe.training.recipe import RECIPES
from freqprobe.training.stacking import MIN_PER_CLASS, WEIGHING_MAX, plan_stacking, weigh_network
from freqprobe.transforms import transform

QUICK = Recipe(epochs=2, min_steps=10)


def informative_features(n: int = 240, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes; feature 0 is the label plus noise, the other 19 are noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    features = torch.randn(n, 20, generator=generator)
    features[:, 0] += 1.5 * labels
    return features, labels


def test_folds_are_stratified_and_reproducible() -> None:
    labels = torch.tensor([0] * 13 + [1] * 7 + [2] * 9)
    fold = stratified_folds(labels, 3, seed=5)
    for k in range(3):
        counts = torch.bincount(labels[fold == k], minlength=3)
        assert torch.all((counts - torch.tensor([13, 7, 9]) / 3).abs() < 1)  # each class dealt out evenly
    assert torch.equal(fold, stratified_folds(labels, 3, seed=5))
    assert not torch.equal(fold, stratified_folds(labels, 3, seed=6))


def test_held_out_logits_are_honest_where_the_full_fit_overfits() -> None:
    """200 noise features for 240 images: the full fit separates its own training images,
    the held-out logits stay at chance (and the gain near 0)."""
    noise = torch.randn(240, 200, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(240) % 2
    readout = SpectralReadout(200, 2, (8, 8))
    held_out = readout.fit(noise, labels, seed=0)
    z = (noise - readout.mean) / readout.std
    assert ((z @ readout.weight + readout.bias).argmax(1) == labels).float().mean() > 0.95
    raw = held_out / readout.gain if readout.gain > 0 else held_out
    assert (raw.argmax(1) == labels).float().mean() < 0.62
    assert float(readout.gain) < 0.2


def test_held_out_logits_are_fits_on_the_other_folds() -> None:
    features, labels = informative_features()
    readout = SpectralReadout(20, 2, (8, 8))
    held_out = readout.fit(features, labels, seed=0)
    z = (features - features.mean(0)) / features.std(0)
    fold = stratified_folds(labels, 4, 0)
    weight, bias = fit_logistic(z[fold != 2], labels[fold != 2], 2)
    torch.testing.assert_close(held_out[fold == 2], readout.gain * (z[fold == 2] @ weight + bias))


def test_the_gain_minimises_the_held_out_loss_and_vanishes_without_evidence() -> None:
    features, labels = informative_features()
    logits = SpectralReadout(20, 2, (8, 8)).fit(features, labels, 0)
    raw = logits / fit_gain(logits, labels)  # any scale: the optimum of g * raw
    gain = fit_gain(raw, labels)
    # first-order condition of the 1-D convex problem: d/dg mean CE(g * raw) = 0
    derivative = ((torch.softmax(gain * raw, 1) - F.one_hot(labels, 2)) * raw).sum(1).mean()
    assert abs(float(derivative)) < 1e-4 and 0.3 < float(gain) < 3


def test_the_readout_is_the_linear_second_opinion_scaled() -> None:
    """Fitted on the training images, the read-out's weights are the linear probe's; in the
    classifier its logits are added to the network's."""
    x = torch.rand(40, 3, 32, 32) * 255
    labels = torch.arange(40) % 2
    x[labels == 1, :, :, ::2] += 4  # a column pattern: the spectral features see it
    model = build_classifier("fast", 2, (3, 32, 32), whiten=True, readout=True)
    held_out = model.fit_readout([(x, labels)], seed=0)
    probe = LinearProbe().fit([(x, labels)], 2)
    torch.testing.assert_close(model.readout.weight, probe.weight)
    torch.testing.assert_close(model.readout.bias, probe.bias)
    model.eval()
    z = (spectral_features(x) - probe.mean) / probe.std
    torch.testing.assert_close(model(x) - model.net(model.standardize(x)), model.readout.gain * (z @ probe.weight + probe.bias))
    torch.testing.assert_close(model(x, held_out) - model.net(model.standardize(x)), held_out)
    assert build_classifier("fast", 2, (192, 4, 4), whiten=True, readout=True).readout is None  # not on repr:dct8
    with pytest.raises(FreqprobeError, match="fitted on 32x32 images, got 48x48; give images of that size"):
        model(torch.rand(2, 3, 48, 48))  # the network alone takes any size, the read-out's bins do not
    assert build_classifier("fast", 2, (3, 32, 32), whiten=True).readout is None


def test_training_uses_the_held_out_logits_never_the_readouts_own(monkeypatch) -> None:
    real, fake = fp.demo_sets(n=40, size=32)
    images = LabelledImages([real.images, fake.images], torch.tensor([0] * 40 + [1] * 40),
                            torch.cat([torch.arange(40)] * 2), torch.tensor([0] * 40 + [1] * 40))  # fmt: skip
    view = FilteredImages(images, transform("original"), torch.device("cpu"))
    model = build_classifier("fast", 2, (3, 32, 32), whiten=True, readout=True)
    given = []
    original = type(model).forward
    monkeypatch.setattr(type(model), "forward", lambda self, x, readout_logits=None: given.append(
        readout_logits is not None and self.training) or original(self, x, readout_logits))  # fmt: skip
    train_classifier(model, view, QUICK, seed=0, device=torch.device("cpu"))
    steps = QUICK.schedule(80)[1] * math.ceil(80 / QUICK.schedule(80)[0])
    assert given[:steps] == [True] * steps and not any(given[steps:])  # then: BatchNorm recalibration


def test_the_weighing_images_are_an_eighth_of_each_class_and_never_trained_on(monkeypatch) -> None:
    model = build_classifier("fast", 2, (3, 16, 16), whiten=True, readout=True)
    labels = torch.tensor([0] * 256 + [1] * 320)
    x = torch.rand(576, 3, 16, 16) * 255
    stacking = plan_stacking(model, [(x, labels)], labels, seed=0)
    assert torch.equal(torch.bincount(labels[stacking.weighing]), torch.tensor([32, 40]))
    assert sorted(torch.cat([stacking.fit, stacking.weighing]).tolist()) == list(range(576))
    assert stacking.readout.shape == (576, 2)
    small = torch.tensor([0] * (8 * MIN_PER_CLASS - 1) + [1] * 100)
    assert len(plan_stacking(model, [(torch.rand(len(small), 3, 16, 16), small)], small, 0).weighing) == 0
    spatial = build_classifier("fast", 2, (3, 16, 16), whiten=True)
    assert len(plan_stacking(spatial, [(x, labels)], labels, 0).weighing) == 0  # no read-out: all images train
    many = torch.arange(40_000) % 2
    weighing = plan_stacking(build_classifier("fast", 2, (3, 8, 8), readout=True), [(torch.rand(40_000, 3, 8, 8), many)],
                             many, 0).weighing  # fmt: skip
    assert len(weighing) <= WEIGHING_MAX and len(weighing) == 40_000 // 20

    real, fake = fp.demo_sets(n=256, size=16)
    images = LabelledImages([real.images, fake.images], torch.tensor([0] * 256 + [1] * 256),
                            torch.cat([torch.arange(256)] * 2), torch.tensor([0] * 256 + [1] * 256))  # fmt: skip
    view = FilteredImages(images, transform("original"), torch.device("cpu"))
    seen = []
    original_batch = FilteredImages.batch
    monkeypatch.setattr(FilteredImages, "batch", lambda self, p: seen.append(p.clone()) or original_batch(self, p))
    model = build_classifier("fast", 2, (3, 16, 16), whiten=True, readout=True)
    train_classifier(model, view, QUICK, seed=0, device=torch.device("cpu"))
    weighing = set(plan_stacking(model, view.batches(1024), view.label, 0).weighing.tolist())
    assert len(weighing) == 64
    # all 512 at once: the standardisation, whitening and read-out fits (the read-out's own folds)
    trained = [set(p.tolist()) for p in seen if len(p) < 512 and not set(p.tolist()) <= weighing]
    assert trained and all(not (t & weighing) for t in trained)  # training steps and BatchNorm statistics
    assert any(set(p.tolist()) == weighing for p in seen)  # the network is weighed on them


def test_the_network_gain_minimises_the_loss_on_the_weighing_images() -> None:
    """A network whose logits are noise is weighed near 0; one that knows the labels is kept."""
    labels = torch.arange(512) % 2
    x = torch.rand(512, 3, 16, 16)
    images = type("Images", (), {"batch": lambda self, p: (x[p], labels[p])})()
    for informative in (False, True):
        model = build_classifier("fast", 2, (3, 16, 16), readout=True)
        stacking = plan_stacking(model, [(x, labels)], labels, seed=0)
        noise = torch.randn(512, 2, generator=torch.Generator().manual_seed(1))
        logits = noise + (3 * F.one_hot(labels, 2) if informative else 0)
        model.net = type("Net", (torch.nn.Module,), {"forward": lambda self, z: logits[(z[:, 0, 0, 0] * 0).long()]})()
        order = {float(v): i for i, v in enumerate(x[:, 0, 0, 0])}
        model.net.forward = lambda z: logits[[order[float(v)] for v in model.mean[0, 0, 0, 0] + z[:, 0, 0, 0] * model.std[0, 0, 0, 0]]]
        weigh_network(model, images, stacking)
        gain = model.readout.network_gain
        held, offset = logits[stacking.weighing], stacking.readout[stacking.weighing]
        derivative = ((torch.softmax(gain * held + offset, 1) - F.one_hot(labels[stacking.weighing], 2)) * held).sum(1)
        assert float(gain) == 0 or abs(float(derivative.mean())) < 1e-4  # the optimum (or the bound at 0)
        assert (float(gain) > 1) if informative else (float(gain) < 0.3)


def test_recipes_are_named_by_their_stems() -> None:
    assert RECIPES["whitened"].readout and RECIPES["whitened"].whiten
    assert [RECIPES[n].label for n in RECIPES] == ["whitened", "spatial", "plain"]
    assert Recipe(readout=False, epochs=3).label == "spatial,epochs=3"
    assert Recipe(whiten=False).label == "plain,readout=True"


@pytest.mark.filterwarnings("ignore:the network misses")
def test_the_default_finds_a_low_frequency_sinusoid_in_photos_that_the_network_alone_misses() -> None:
    """(0, 0.125) cycles/px, 3 grey levels, on 32 px photo crops: where photos have most power
    and the convolutions alone are at chance (docs/limits.md)."""
    yy, xx = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    phases = torch.rand(500, generator=torch.Generator().manual_seed(0)) * 2 * math.pi
    wave = 3.0 * torch.cos(2 * math.pi * 0.125 * xx + phases[:, None, None, None])
    crops = random_crops(demo_photos(), 500, 32, 2)
    real = fp.ImageSet(random_crops(demo_photos(), 500, 32, 1))
    fake = fp.ImageSet((crops + wave).round().clamp(0, 255).to(torch.uint8))
    table = fp.ablate(real, fake, ["original"], seeds=1, recipe=["whitened", "spatial"], null=False, progress=False).table
    rows = table.set_index("recipe")
    assert rows.loc["whitened", "ci_low"] > 0.6
    assert rows.loc["whitened", "accuracy"] - rows.loc["spatial", "accuracy"] > 0.1
    assert rows.loc["whitened", "accuracy"] > rows.loc["whitened", "linear_accuracy"] - 0.03  # 0.75 vs 0.755 measured


def test_a_run_of_0_2_without_a_readout_in_its_recipe_still_loads(tmp_path) -> None:
    """Run records of freqprobe 0.2 name no ``readout``: their network is rebuilt without one."""
    import json

    real, fake = fp.demo_sets(n=40, size=16)
    study = fp.ablate(real, fake, ["original"], seeds=1, recipe=Recipe(epochs=1, min_steps=4, readout=False),
                      null=False, progress=False, out=tmp_path)  # fmt: skip
    key = study.table["run"].iloc[0]
    path = tmp_path / "runs" / f"{key}.json"
    record = json.loads(path.read_text())
    del record["spec"]["recipe"]["readout"]
    path.write_text(json.dumps(record))
    model = fp.AblationResult.load(tmp_path).store.model(key, torch.device("cpu"))
    assert model.readout is None and model(torch.rand(2, 3, 16, 16)).shape == (2, 2)
