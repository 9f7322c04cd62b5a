"""``fp.attribute`` end to end: the run folder, targets, held-out images, one-line errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.errors import FreqprobeError

BANDS_COLUMNS = [
    "method", "images", "band", "f_lo", "f_hi", "angle_lo", "angle_hi", "importance", "ci_low", "ci_high", "rank",
]  # fmt: skip


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 8, 3, stride=2), nn.GELU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2),
    ).eval()  # fmt: skip


class CountingModel(nn.Module):
    """A model that counts its forward calls and gives ``shape``-shaped outputs."""

    def __init__(self, shape: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.net, self.shape, self.calls = small_net(), shape, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        out = self.net(x)
        return out if self.shape is None else torch.zeros(x.shape[0], *self.shape)


@pytest.fixture(scope="module")
def demo() -> tuple[fp.ImageSet, fp.ImageSet]:
    return fp.demo_sets(n=12, size=16)


def test_the_run_folder_round_trips_and_redraws(tmp_path: Path, demo) -> None:
    real, fake = demo
    options = {"heatmap": True, "heatmap_images": 2, "n_images": 6, "pixel_images": 4, "shapley_samples": 2}
    report = fp.attribute(small_net(), real, fake, bands=4, sectors=2, ig_steps=4, device="cpu", **options)
    report.save(tmp_path)
    written = ["bands.csv", "sensitivity.csv", "maps.npz", "settings.json", "attribution.png", "attribution.pdf"]
    for name in [*written, "pixels_gradcam.png", "pixels_occlusion.pdf", "pixel_means.png"]:
        assert (tmp_path / name).stat().st_size > 0, name
    bands = pd.read_csv(tmp_path / "bands.csv")
    assert bands.columns[: len(BANDS_COLUMNS)].tolist() == BANDS_COLUMNS
    assert len(bands) == 3 * 3 * 8  # methods x (all, real, fake) x bands
    assert all(sorted(group["rank"]) == list(range(1, 9)) for _, group in bands.groupby(["method", "images"]))
    loaded = fp.AttributionReport.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.table, report.table, check_dtype=False)
    assert loaded.maps.keys() == report.maps.keys() and loaded.settings == report.settings
    assert loaded.maps["heatmap"].shape == (2, 16, 16) and loaded.maps["fourier_sensitivity"].shape == (2, 16, 16)
    assert loaded.maps["band_ablation"].shape == (12, 8) and loaded.maps["pixel_gradcam"].shape == (8, 16, 16)
    assert report.settings["images"].startswith("all images")
    assert repr(report).startswith("AttributionReport: 8 bands by ablation") and "<table" in report._repr_html_()


def test_group_importances_are_the_means_over_their_images(demo) -> None:
    report = fp.attribute(small_net(), *demo, bands=4, methods=["ablation"], pixel_methods=[], device="cpu")
    values, labels = report.maps["band_ablation"], report.maps["labels"]
    for group, members in (("all", labels >= 0), ("real", labels == 0), ("fake", labels == 1)):
        rows = report.table[report.table["images"] == group].sort_values("band")
        np.testing.assert_allclose(rows["importance"], values[members].mean(axis=0))
        assert (rows["ci_low"] <= rows["importance"]).all() and (rows["importance"] <= rows["ci_high"]).all()


def test_the_same_seed_gives_the_same_numbers(demo) -> None:
    options = {"bands": 4, "methods": ["shapley"], "pixel_methods": ["smoothgrad"], "shapley_samples": 2}
    options["device"] = "cpu"
    first, second = (fp.attribute(small_net(), *demo, **options) for _ in range(2))
    pd.testing.assert_frame_equal(first.table, second.table)
    assert np.array_equal(first.maps["pixel_mean_smoothgrad"], second.maps["pixel_mean_smoothgrad"])
    other = fp.attribute(small_net(), *demo, sample_seed=1, **options)
    assert not np.array_equal(first.maps["band_shapley"], other.maps["band_shapley"])


def test_margin_is_the_own_logit_minus_the_other(demo) -> None:
    real, fake = demo
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": [], "device": "cpu"}
    runs = {
        target: fp.attribute(small_net(), real, fake, target=target, **options).maps["band_ablation"]
        for target in ("true", "margin", 0, 1)
    }
    own = np.where(np.arange(24)[:, None] < 12, runs[0], runs[1])
    other = np.where(np.arange(24)[:, None] < 12, runs[1], runs[0])
    np.testing.assert_allclose(runs["true"], own, atol=1e-6)
    np.testing.assert_allclose(runs["margin"], own - other, atol=1e-5)


def test_a_study_folder_attributes_its_held_out_images(tmp_path: Path, demo) -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    fp.ablate(real, fake, ["original"], seeds=1, null=False, progress=False, out=tmp_path / "study", device="cpu")
    options = {"bands": 4, "methods": ["ablation"], "device": "cpu"}
    report = fp.attribute(tmp_path / "study", real, fake, pixel_methods=["gradcam"], **options)
    assert report.settings["n_images"] == [8, 8] and "held-out" in report.settings["images"]
    assert report.settings["seed"] == 0 and report.settings["recipe"] == "whitened"
    # the shown images are the first test images of ablate's default split, class by class
    (_, real_test), (_, fake_test) = fp.train_test_split(real, fake, test_size=0.2, seed=0)
    expected = torch.cat([real.images[real_test[:4]], fake.images[fake_test[:4]]]).numpy()
    assert np.array_equal(report.maps["shown_images"], expected)
    fewer = fp.attribute(tmp_path / "study", real, fake, pixel_methods=[], n_images=5, **options)
    assert fewer.settings["images"] == "the study's held-out test images (8 real, 8 fake); 5 real and 5 fake of them " \
        "drawn (n_images=5)"  # fmt: skip
    other = fp.attribute(tmp_path / "study", *demo, pixel_methods=[], **options)
    assert other.settings["n_images"] == [12, 12] and other.settings["images"].startswith("all images")


def test_a_study_split_with_other_arguments_warns_and_uses_all_images() -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    study = fp.ablate(real, fake, ["original"], seeds=1, null=False, progress=False, split_seed=1, device="cpu")
    with pytest.warns(UserWarning, match="its split .* cannot be rebuilt"):
        report = fp.attribute(study, real, fake, bands=4, methods=["ablation"], pixel_methods=[], device="cpu")
    assert report.settings["n_images"] == [40, 40] and "including the study's training images" in report.settings["images"]


def test_the_recipe_picks_the_study_model_and_keeps_the_held_out_images() -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    study = fp.ablate(
        real, fake, ["original"], seeds=1, null=False, progress=False, recipe=["whitened", "plain"], device="cpu"
    )
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": [], "device": "cpu"}
    plain = fp.attribute(study, real, fake, recipe="plain", **options)
    assert plain.settings["recipe"] == "plain" and plain.settings["n_images"] == [8, 8]
    # the same numbers as the plain model given as a module, on the same held-out images
    (_, real_test), (_, fake_test) = fp.train_test_split(real, fake, test_size=0.2, seed=0)
    module = study.model("original", recipe="plain")
    by_hand = fp.attribute(module, real[real_test], fake[fake_test], **options)
    np.testing.assert_allclose(plain.maps["band_ablation"], by_hand.maps["band_ablation"], atol=1e-6)
    whitened = fp.attribute(study, real, fake, **options)
    assert whitened.settings["recipe"] == "whitened"
    assert not np.allclose(plain.maps["band_ablation"], whitened.maps["band_ablation"])


def dct8_reader() -> nn.Module:
    """A classifier of blockwise DCT coefficients ``(N, 192, H/8, W/8)`` (16-px images: 2 x 2 blocks)."""
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(192, 4, 1), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 2 * 2, 2)).eval()


def test_a_representation_model_sees_the_band_weighted_image_through_its_variant(demo) -> None:
    real, fake = demo
    model = dct8_reader()
    report = fp.attribute(
        model, real, fake, bands=4, methods=["ablation"], pixel_methods=["ig", "occlusion"], variant="repr:dct8",
        baseline="zero", target="true", device="cpu",
    )  # fmt: skip
    # reference: the score drop when band 2 is removed by a NumPy FFT *before* the DCT
    x, labels = torch.cat([real.float("cpu"), fake.float("cpu")]), torch.from_numpy(report.maps["labels"])
    edges = report.settings["edges"]
    radius = np.hypot(np.fft.fftfreq(16)[:, None], np.fft.fftfreq(16)[None, :])
    ring = (radius >= edges[2]) & (radius < edges[3])
    removed = torch.from_numpy(np.fft.ifft2(np.fft.fft2(x.double().numpy()) * ~ring).real).float()
    dct8 = fp.transform("repr:dct8")

    def score(images: torch.Tensor) -> torch.Tensor:
        return model(dct8(images)).gather(1, labels[:, None])[:, 0].detach()

    np.testing.assert_allclose(report.maps["band_ablation"][:, 2], (score(x) - score(removed)).numpy(), atol=1e-4)
    assert report.maps["pixel_ig"].shape == (8, 16, 16) and report.maps["pixel_mean_occlusion"].shape == (2, 16, 16)
    assert report.settings["variant"] == "repr:dct8"


def test_a_study_trained_on_a_representation_is_attributed_on_its_held_out_images() -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    study = fp.ablate(real, fake, ["repr:dct8"], seeds=1, null=False, progress=False, device="cpu")
    report = fp.attribute(
        study, real, fake, bands=4, methods=["ablation", "ig"], pixel_methods=["smoothgrad"], variant="repr:dct8",
        device="cpu",
    )  # fmt: skip
    assert report.settings["n_images"] == [8, 8] and "held-out" in report.settings["images"]
    assert np.isfinite(report.table["importance"]).all() and report.maps["pixel_smoothgrad"].shape == (8, 16, 16)


def test_the_shown_pixel_maps_match_the_shown_images(demo) -> None:
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": ["occlusion"], "device": "cpu"}
    few = fp.attribute(small_net(), *demo, pixel_images=2, **options)
    assert few.maps["shown_images"].shape[0] == few.maps["pixel_occlusion"].shape[0] == 4
    small_batches = fp.attribute(small_net(), *demo, batch_size=16, **options)  # 2 images per batch
    assert small_batches.maps["shown_images"].shape[0] == small_batches.maps["pixel_occlusion"].shape[0] == 8
    full = fp.attribute(small_net(), *demo, **options)
    np.testing.assert_allclose(small_batches.maps["pixel_occlusion"], full.maps["pixel_occlusion"], atol=1e-6)


@pytest.mark.parametrize(
    ("model", "kwargs", "reason"),
    [
        (CountingModel((3, 1)), {}, r"must map \(N, 3, H, W\) images to \(N, K >= 2\) logits; .* gave \(2, 3, 1\)"),
        (CountingModel((1,)), {}, r"gave \(2, 1\)"),
        (CountingModel(), {"target": 2}, r"target=2 is out of range: the model gives 2 logits \(0..1\)"),
        (CountingModel(), {"classes": (0, 5)}, "fake class=5 is out of range"),
        (CountingModel(), {"target": "fake"}, "target='fake'; choose true, margin or a class index"),
        (CountingModel(), {"bands": [0.1, 0.9]}, r"edge 0.9 is outside the spectrum"),
        (CountingModel(), {"methods": ["lime"]}, "methods: unknown 'lime'"),
        (CountingModel(), {"variant": "power_equalize"}, "fitted on a set"),
        (CountingModel(), {"n_images": 0}, "n_images=0 must be"),
        (CountingModel(), {"classes": (0, 1, 2)}, "give the logit indices of the real and the fake class"),
        (CountingModel(), {"seed": 1}, "pick a study's model; this model is not a study"),
        (
            CountingModel(),
            {"variant": "repr:dct8", "pixel_methods": ["ig", "gradcam"]},
            r"gradcam: the model reads repr:dct8 \(192x2x2\), not the image",
        ),
    ],
)
def test_bad_input_is_one_line_before_any_attribution(demo, model: CountingModel, kwargs: dict, reason: str) -> None:
    with pytest.raises(FreqprobeError, match=reason) as err:
        fp.attribute(model, *demo, device="cpu", **{"pixel_methods": [], **kwargs})
    assert "\n" not in str(err.value) and model.calls <= 1  # at most the shape check ran


def test_sets_of_different_sizes_are_refused(demo) -> None:
    other, _ = fp.demo_sets(n=4, size=32)
    with pytest.raises(FreqprobeError, match="sets differ in image size"):
        fp.attribute(small_net(), demo[0], other, device="cpu")


def test_bootstrap_interval_matches_the_normal_theory_interval_and_repeats() -> None:
    from freqprobe.attribution.importance import bootstrap_interval

    values = np.random.default_rng(5).normal(size=(400, 2)) * [1.0, 3.0]
    low, high = bootstrap_interval(values, n_boot=2000, seed=0)
    half_width = 1.96 * values.std(axis=0, ddof=1) / np.sqrt(400)
    np.testing.assert_allclose((high - low) / 2, half_width, rtol=0.1)
    np.testing.assert_allclose((high + low) / 2, values.mean(axis=0), atol=0.1 * half_width.max())
    again = bootstrap_interval(values, n_boot=2000, seed=0)
    assert np.array_equal(low, again[0]) and np.array_equal(high, again[1])


def test_a_study_without_the_variant_never_gives_its_null_control() -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    study = fp.ablate(real, fake, ["highpass:0.25"], seeds=1, progress=False, recipe="plain", device="cpu")
    assert "real-vs-real" in set(study.table["task"])  # the null control's model was trained on the originals
    with pytest.raises(FreqprobeError, match="trained on 'original' in this study; trained on: highpass:0.25$"):
        fp.attribute(study, real, fake, bands=4, methods=["ablation"], pixel_methods=[], device="cpu")


def test_a_kway_study_picks_the_classes_of_its_sets_and_warns_about_its_split() -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    other = fp.ImageSet(torch.flip(fake.images, dims=[3]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pairs the network misses at this size: not what this test is about
        study = fp.ablate(real, [fake, other], ["original"], seeds=1, null=False, progress=False, recipe="plain",
                          device="cpu")  # fmt: skip
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": [], "device": "cpu"}
    with pytest.warns(UserWarning, match="split needs all of them"):
        report = fp.attribute(study, real, other, **options)
    assert report.settings["classes"] == [0, 2] and report.settings["n_images"] == [40, 40]
    assert "K-way" in report.settings["images"]
    with pytest.warns(UserWarning, match="split needs all of them"):
        explicit = fp.attribute(study, real, other, classes=np.array([0, 2]), target=np.int64(2), **options)
    assert explicit.settings["classes"] == [0, 2] and explicit.settings["target"] == 2  # NumPy ints are fine
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generated = fp.attribute(study, fake, other, **options)  # two generated sets: no class is reversed
    assert [str(w.message) for w in caught if "reverse" in str(w.message)] == []
    assert generated.settings["classes"] == [1, 2] and "K-way" in generated.settings["images"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # with all of the study's sets its split is rebuilt: no warning
        held_out = fp.attribute(study, real, other, others=[fake], **options)
    run = study.table[(study.table["task"] == "kway")].iloc[0]
    per_class = run["n_test"] // 3  # the K-way test split: a balanced fifth of each set
    assert held_out.settings["n_images"] == [per_class, per_class] == [8, 8]
    assert held_out.settings["images"].startswith("the K-way study's held-out test images (8 real, 8 fake)")
    assert held_out.settings["classes"] == [0, 2]


@pytest.mark.parametrize(("classes", "reason"), [((0, 5), "fake class=5 is out of range"),
                                                 ((True, 1), "integer logit indices"),
                                                 ((0.0, 1), "integer logit indices")])  # fmt: skip
def test_classes_must_be_integer_logits_in_range(demo, classes, reason: str) -> None:
    with pytest.raises(FreqprobeError, match=reason):
        fp.attribute(small_net(), *demo, bands=4, classes=np.array(classes) if reason.startswith("fake") else classes,
                     methods=["ablation"], pixel_methods=[], device="cpu")  # fmt: skip


def test_four_sectors_of_eight_rings_attribute_the_bands_that_exist() -> None:
    real, fake = fp.demo_sets(n=6, size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the corners' missing sectors are no loss: no warning
        report = fp.attribute(small_net(), real, fake, bands=8, sectors=4, methods=["ablation"], pixel_methods=[],
                              device="cpu")  # fmt: skip
    assert report.maps["band_ablation"].shape == (12, 30) and report.table["band"].nunique() == 30
    with pytest.warns(UserWarning, match="2 ring sectors hold no frequency of a 32x32 image"):
        fp.attribute(small_net(), real, fake, bands=16, sectors=4, methods=["ablation"], pixel_methods=[], device="cpu")
