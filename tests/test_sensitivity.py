"""Sensitivity: the whitened default finds faint, fine differences a plain CNN misses;
representations and the linear probe, each against an independent reference."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pandas as pd
import pytest
import pywt
import scipy.fft
import torch

import freqprobe as fp
from freqprobe.data.demo import demo_photos, random_crops
from freqprobe.errors import FreqprobeError, SpecError
from freqprobe.models import build_classifier
from freqprobe.models.whitening import PatchWhitening
from freqprobe.stats import wilson_interval
from freqprobe.training.linear import LinearProbe, fit_logistic, spectral_features


def photo_crops(n: int, size: int, seed: int) -> torch.Tensor:
    return random_crops(demo_photos(), n, size, seed)


def faint_sinusoid_sets(n: int = 500, size: int = 32, amplitude: float = 1.5) -> tuple[fp.ImageSet, fp.ImageSet]:
    """Photo crops, and other crops plus a fixed sinusoid of ``amplitude`` grey levels."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    wave = amplitude * torch.cos(2 * math.pi * (0.19 * yy + 0.31 * xx) + 0.7)
    fake = (photo_crops(n, size, 2).float() + wave).round().clamp(0, 255).to(torch.uint8)
    return fp.ImageSet(photo_crops(n, size, 1)), fp.ImageSet(fake)


def jpeg_sets(n: int = 500, size: int = 32, quality: int = 80) -> tuple[fp.ImageSet, fp.ImageSet]:
    """Photo crops, and other crops re-encoded as JPEG at ``quality`` (OpenCV's codec)."""
    crops = photo_crops(n, size, 2).permute(0, 2, 3, 1).numpy()
    encoded = [cv2.imencode(".jpg", crop[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1] for crop in crops]
    fake = np.stack([cv2.imdecode(e, cv2.IMREAD_COLOR)[..., ::-1] for e in encoded])
    return fp.ImageSet(photo_crops(n, size, 1)), fp.ImageSet(torch.from_numpy(fake).permute(0, 3, 1, 2).contiguous())


def at_chance(row: pd.Series) -> bool:
    low, high = wilson_interval(round(row["accuracy"] * row["n_test"]), int(row["n_test"]), 0.999)
    return low <= row["chance"] <= high


def rows(result: fp.AblationResult, task: str, recipe: str) -> pd.Series:
    table = result.table
    return table[(table["task"] == task) & (table["recipe"] == recipe)].iloc[0]


@pytest.fixture(scope="module")
def jpeg_study() -> fp.AblationResult:
    real, fake = jpeg_sets()
    return fp.ablate(real, fake, ["original"], seeds=1, recipe=["whitened", "plain"], progress=False)


def test_whitened_default_finds_a_jpeg_re_encoding_that_the_plain_recipe_misses(jpeg_study) -> None:
    whitened, plain = rows(jpeg_study, "binary", "whitened"), rows(jpeg_study, "binary", "plain")
    assert whitened["ci_low"] > 0.75
    assert at_chance(plain)
    assert whitened["linear_accuracy"] > 0.85  # the linear second opinion agrees


def test_the_null_control_stays_at_chance_under_every_recipe(jpeg_study) -> None:
    for recipe in ("whitened", "plain"):
        assert at_chance(rows(jpeg_study, "real-vs-real", recipe))
    assert jpeg_study.null_ok


def test_whitened_default_finds_a_sinusoid_below_two_grey_levels_on_every_seed() -> None:
    real, fake = faint_sinusoid_sets()
    result = fp.ablate(real, fake, ["original"], seeds=3, recipe=["whitened", "plain"], progress=False, null=False)
    accuracy = result.table.groupby("recipe")["accuracy"]
    assert accuracy.min()["whitened"] > 0.75  # every seed finds it; the plain recipe is hit and miss
    assert accuracy.mean()["whitened"] - accuracy.mean()["plain"] > 0.1
    assert result.table["linear_accuracy"].iloc[0] > 0.85


def test_a_network_that_misses_what_the_linear_probe_finds_is_flagged(jpeg_study) -> None:
    missed = jpeg_study.missed_by_network
    assert "plain" in set(missed["recipe"]) and set(missed["task"]) == {"binary"}  # the null control: next test


def test_the_null_control_is_never_flagged_as_missed_even_when_its_linear_probe_beats_it() -> None:
    """The exclusion itself: a null-control row that meets every other condition stays out."""
    row = {"variant": "original", "seed": 0, "mode": "retrain", "recipe": "whitened", "n_test": 200,
           "accuracy": 0.5, "p_value": 0.5, "auc": 0.5, "chance": 0.5, "linear_accuracy": 0.9,
           "linear_ci_low": 0.85, "linear_ci_high": 0.93, "linear_auc": 0.95}  # fmt: skip
    table = pd.DataFrame([{**row, "task": "binary"}, {**row, "task": "real-vs-real", "variant": "real-vs-real"}])
    missed = fp.AblationResult(table, pd.DataFrame()).missed_by_network
    assert list(missed["task"]) == ["binary"]


def test_recipes_run_side_by_side_and_each_model_is_reachable(jpeg_study) -> None:
    summary = jpeg_study.summary
    assert set(summary["recipe"]) == {"whitened", "plain"} and len(summary) == 4
    whitened, plain = jpeg_study.model(recipe="whitened"), jpeg_study.model(recipe="plain")
    assert isinstance(whitened.net.whitening, PatchWhitening) and not hasattr(plain.net, "whitening")


def test_unknown_recipe_is_a_one_line_error() -> None:
    real, fake = faint_sinusoid_sets(n=40)
    with pytest.raises(FreqprobeError, match="unknown recipe 'whiter'"):
        fp.ablate(real, fake, ["original"], recipe="whiter", progress=False)


# -- the whitening layer ---------------------------------------------------------------------


def test_patch_whitening_gives_patches_identity_covariance() -> None:
    """Whitened patches have covariance diag(l / (l + floor)) for the eigenvalues l of the
    patch covariance (numpy's): 1 wherever the variance is well above the floor."""
    generator = torch.Generator().manual_seed(0)
    mixing = torch.randn(3, 3, generator=generator)
    x = torch.einsum("dc,nchw->ndhw", mixing, torch.randn(256, 3, 32, 32, generator=generator).cumsum(-1))
    layer = PatchWhitening(3, 4, 4)
    layer.fit(x.split(64))  # from a sample of 16 patches per image
    out = layer(x).permute(0, 2, 3, 1).reshape(-1, 48).double()  # all 64 patches per image
    patches = torch.nn.functional.unfold(x, 4, stride=4).transpose(1, 2).reshape(-1, 48).double().numpy()
    eigenvalues = np.linalg.eigvalsh(np.cov(patches.T))[::-1]
    expected = eigenvalues / (eigenvalues + 1e-3 * eigenvalues.mean())
    assert (expected > 0.9).sum() >= 30  # most directions are whitened to unit variance
    np.testing.assert_allclose(torch.cov(out.T).numpy(), np.diag(expected), atol=0.2)
    assert out.mean(0).abs().max() < 0.2


# -- representations -------------------------------------------------------------------------


def test_dct8_is_the_orthonormal_dct_of_each_tile() -> None:
    x = torch.rand(2, 3, 16, 24, dtype=torch.float64)
    out = fp.transform("repr:dct8")(x)
    assert out.shape == (2, 192, 2, 3) == (2, *fp.transform("repr:dct8").output_shape((3, 16, 24)))
    tile = x[1, 2, 8:16, 16:24].numpy()
    expected = scipy.fft.dctn(tile, norm="ortho")
    np.testing.assert_allclose(out[1, 128:192, 1, 2].reshape(8, 8).numpy(), expected, atol=1e-12)


def test_logfft_and_logdct_are_log_power_spectra() -> None:
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    eps = 1e-6 * 256
    logfft = fp.transform("repr:logfft")(x)
    expected = np.log(np.abs(np.fft.fftshift(np.fft.fft2(x.numpy()), axes=(-2, -1))) ** 2 + eps)
    np.testing.assert_allclose(logfft.numpy(), expected, atol=1e-9)
    logdct = fp.transform("repr:logdct")(x)
    np.testing.assert_allclose(logdct.numpy(), np.log(scipy.fft.dctn(x.numpy(), axes=(-2, -1), norm="ortho") ** 2 + eps), atol=1e-9)
    constant = fp.transform("repr:logfft")(torch.full((1, 3, 8, 8), 0.5))
    assert torch.isfinite(constant).all()


def test_wavelet_is_pywavelets_one_level_haar() -> None:
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    out = fp.transform("repr:wavelet")(x).reshape(2, 3, 4, 8, 8)
    approx, (horizontal, vertical, diagonal) = pywt.dwt2(x.numpy(), "haar", axes=(-2, -1))
    for k, band in enumerate((approx, horizontal, vertical, diagonal)):
        np.testing.assert_allclose(out[:, :, k].numpy(), band, atol=1e-12)


def test_a_representation_must_be_last_and_fit_the_size() -> None:
    assert str(fp.transform("highpass:0.1+repr:dct8")) == "highpass:0.1+repr:dct8"
    for kind in ("dct8", "logfft", "logdct", "wavelet"):  # logfft and logdct keep the image's shape
        with pytest.raises(SpecError, match="must be the last stage"):
            fp.transform(f"repr:{kind}+highpass:0.1")
    with pytest.raises(SpecError, match="divisible by 8"):
        fp.transform("repr:dct8", size=36)
    with pytest.raises(SpecError, match="unknown representation"):
        fp.transform("repr:fft")


def test_a_study_trains_on_representations_and_rejects_them_in_probe_mode() -> None:
    real, fake = faint_sinusoid_sets(n=120)
    result = fp.ablate(real, fake, ["repr:dct8", "repr:wavelet"], seeds=1, progress=False, null=False)
    assert set(result.table["variant"]) == {"repr:dct8", "repr:wavelet"}
    model = result.model("repr:dct8")
    assert model(torch.zeros(2, 192, 4, 4)).shape == (2, 2)
    for kind in ("dct8", "logfft"):
        with pytest.raises(FreqprobeError, match="retrain on it instead \\(mode='retrain'"):
            fp.ablate(real, fake, [f"repr:{kind}"], mode="probe", progress=False)


def test_built_in_networks_take_any_representation_shape() -> None:
    for shape in [(3, 32, 32), (192, 4, 4), (12, 16, 16)]:
        for name in ("fast", "resnet18"):
            for whiten in (False, True):
                model = build_classifier(name, 3, shape, whiten)
                assert model.eval()(torch.rand(2, *shape)).shape == (2, 3)


# -- the linear probe ------------------------------------------------------------------------


def test_logistic_regression_matches_the_closed_form_for_gaussian_classes() -> None:
    """Two classes N(mu_k, sigma^2): the logistic MLE is w = (mu1 - mu0) / sigma^2,
    b = (mu0^2 - mu1^2) / (2 sigma^2)."""
    generator = torch.Generator().manual_seed(0)
    n, mu0, mu1, sigma = 200_000, -0.5, 1.0, 1.5
    y = torch.arange(2 * n) % 2
    X = (torch.where(y == 1, mu1, mu0) + sigma * torch.randn(2 * n, generator=generator))[:, None]
    weight, bias = fit_logistic(X, y, 2, penalty=0.0)
    w, b = float(weight[0, 1] - weight[0, 0]), float(bias[1] - bias[0])
    assert w == pytest.approx((mu1 - mu0) / sigma**2, rel=0.02)
    assert b == pytest.approx((mu0**2 - mu1**2) / (2 * sigma**2), abs=0.02)


def test_linear_probe_reaches_the_bayes_accuracy_of_a_planted_sinusoid_in_white_noise() -> None:
    """White noise (sigma = 0.1) with or without a fixed cosine at one Fourier bin: the
    probe reads that bin's log power; the ideal energy detector's accuracy is computed
    exactly from the non-central chi-square of the bin's power."""
    size, n, sigma, amplitude = 16, 1500, 0.1, 0.03
    generator = torch.Generator().manual_seed(1)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    wave = amplitude * torch.cos(2 * math.pi * (3 * yy + 5 * xx) / size)
    labels = torch.arange(2 * n) % 2
    x = 0.5 + sigma * torch.randn(2 * n, 3, size, size, generator=generator) + labels[:, None, None, None] * wave
    probe = LinearProbe().fit([(x[: 3 * n // 2], labels[: 3 * n // 2])], 2)
    accuracy = (probe.predict_proba(x[3 * n // 2 :]).argmax(1) == labels[3 * n // 2 :]).float().mean().item()
    # the probe reads the luminance (mean of 3 channels: noise sigma / sqrt(3)), whose
    # coefficient at the bin is complex Gaussian with variance sigma^2 N^2 / 3; the signal
    # shifts it by A N^2 / 2: the ideal energy detector is a 2-dof chi-square test
    from scipy import stats

    noncentrality = 2 * (amplitude * size**2 / 2) ** 2 / (sigma**2 * size**2 / 3)
    thresholds = np.linspace(0, 200, 20001)
    best = float(np.max(0.5 * (stats.chi2.cdf(thresholds, 2) + stats.ncx2.sf(thresholds, 2, noncentrality))))
    assert best == pytest.approx(0.996, abs=0.001)
    assert best - 0.025 < accuracy <= best + 0.005  # 1500 test images: 0.005 is three standard errors


def test_spectral_features_are_finite_and_bounded_in_number() -> None:
    assert spectral_features(torch.full((2, 3, 32, 32), 0.5)).isfinite().all()
    large = spectral_features(torch.rand(1, 3, 256, 256))
    assert large.shape[1] == 32 * 17 + 3 * 64


@pytest.mark.parametrize(("kernel", "stride"), [(4, 4), (2, 1)])
def test_sampled_patches_are_patches_of_their_image_in_conv_order(kernel: int, stride: int) -> None:
    x = torch.rand(5, 3, 12, 12)
    layer = PatchWhitening(3, kernel, stride)
    sample = layer._sample_patches(x, torch.Generator().manual_seed(0))
    every = torch.nn.functional.unfold(x, kernel, stride=stride).transpose(1, 2)  # (N, L, C*k*k)
    per_image = len(sample) // len(x)
    for i, patch in enumerate(sample):
        assert (every[i // per_image] - patch).abs().sum(1).min() < 1e-6


def test_spectral_features_are_log_power_and_mean_log_dct_of_the_tiles() -> None:
    x = torch.rand(2, 3, 16, 24, dtype=torch.float64)
    features = spectral_features(x).double()
    grey = x.mean(1).numpy()
    power = np.log(np.abs(np.fft.rfft2(grey)) ** 2 + 1e-6 * 16 * 24)
    np.testing.assert_allclose(features[:, : 16 * 13].numpy(), power.reshape(2, -1), rtol=1e-4, atol=1e-4)
    tiles = [scipy.fft.dctn(x[1, 2, i : i + 8, j : j + 8].numpy(), norm="ortho") for i in (0, 8) for j in (0, 8, 16)]
    expected = np.log(np.abs(np.stack(tiles)) + 1 / 255).mean(0).reshape(64)
    np.testing.assert_allclose(features[1, -64:].numpy(), expected, rtol=1e-5, atol=1e-5)  # float32 DCT


def test_the_linear_probe_is_fitted_once_per_task_and_variant(monkeypatch, tmp_path) -> None:
    """Shared by seeds, recipes and modes; stored, so a resumed study fits nothing again."""
    from freqprobe.training import Recipe

    fits = []
    original_fit = LinearProbe.fit
    monkeypatch.setattr(LinearProbe, "fit", lambda self, *a, **k: fits.append(1) or original_fit(self, *a, **k))
    real, fake = faint_sinusoid_sets(n=60)
    quick = {"whitened": Recipe(epochs=1, min_steps=4), "plain": Recipe(epochs=1, min_steps=4, whiten=False)}
    run = lambda: fp.ablate(real, fake, ["original", "highpass:0.1"], seeds=2, mode=("retrain", "probe"),
                            recipe=quick, out=tmp_path, progress=False)  # fmt: skip
    result = run()
    assert len(fits) == 4  # binary on original, binary on highpass:0.1, the null control's halves of each seed
    assert len(list((tmp_path / "linear").glob("*.json"))) == 4
    binary = result.table[result.table["task"] == "binary"]
    assert binary.groupby(["variant", "mode"])["linear_accuracy"].nunique().eq(1).all()
    null = result.table[result.table["task"] == "real-vs-real"]
    assert null.groupby("seed")["linear_accuracy"].nunique().eq(1).all()  # one per seed, shared by recipes
    run()
    assert len(fits) == 4  # none more: the resumed study reuses every stored fit


def test_whitening_and_standardisation_see_training_images_only(monkeypatch) -> None:
    seen = []
    original_fit = PatchWhitening.fit
    monkeypatch.setattr(
        PatchWhitening, "fit", lambda self, batches, seed=0: original_fit(self, (seen.append(len(x)) or x for x in batches), seed)
    )
    real, fake = faint_sinusoid_sets(n=60)
    result = fp.ablate(real, fake, ["original"], seeds=1, progress=False, null=False)
    assert sum(seen) == int(result.table["n_train"].iloc[0]) == 96  # 80 % of 60 + 60
