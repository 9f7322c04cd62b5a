"""The diffusion classifier: Bayes-optimal on Gaussian classes with the exact noise
predictor, the adapters' plumbing on tiny diffusers models, and the probe's use of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.errors import FreqprobeError
from freqprobe.generative import ddpm_alphas_cumprod, plan_stages
from freqprobe.generative.classifier import Stage
from freqprobe.generative.schedule import timestep_weights
from freqprobe.transforms.keyed_random import keyed_normal

SCHEDULE = ddpm_alphas_cumprod()


class GaussianClasses(fp.generative.GaussianClasses):
    """With a v-prediction twin of the exact predictor."""

    def v(self, x_t: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        a = SCHEDULE[t].view(-1, 1, 1, 1)
        x0 = (x_t - (1 - a).sqrt() * self.eps(x_t, t, c)) / a.sqrt()
        return a.sqrt() * self.eps(x_t, t, c) - (1 - a).sqrt() * x0


def classifier(gauss: GaussianClasses, budget: int, **options) -> fp.DiffusionClassifier:
    options = {"batch_size": 1 << 16, "progress": False, **options}
    return fp.diffusion_classifier(gauss.eps, [f"class-{k}" for k in range(gauss.k)], budget=budget, **options)


def test_the_default_schedule_is_diffusers_ddpm_schedule() -> None:
    diffusers = pytest.importorskip("diffusers")
    assert torch.equal(SCHEDULE, diffusers.DDPMScheduler().alphas_cumprod)


def test_elbo_logits_estimate_the_log_likelihood_ratios_of_the_exact_predictor() -> None:
    gauss = GaussianClasses()
    images, _ = gauss.sample(200)
    logits = classifier(gauss, 1024, weighting="elbo")(images)
    dims = images[0].numel()
    estimated = (logits - logits.mean(1, keepdim=True)).flatten() * dims
    exact = gauss.log_density(images)
    exact = (exact - exact.mean(1, keepdim=True)).flatten()
    slope = float((estimated * exact).sum() / (exact * exact).sum())
    assert slope == pytest.approx(1.0, abs=0.05)
    assert float(torch.corrcoef(torch.stack([estimated, exact]))[0, 1]) > 0.97


def test_at_a_large_budget_it_agrees_with_the_bayes_classifier_and_its_accuracy_approaches_bayes() -> None:
    gauss = GaussianClasses()
    images, labels = gauss.sample(400)
    bayes = gauss.log_density(images).argmax(1)
    small = classifier(gauss, 4, weighting="elbo")(images).argmax(1)
    large = classifier(gauss, 2048, weighting="elbo")(images).argmax(1)
    assert float((large == bayes).float().mean()) >= 0.95
    assert float((small == bayes).float().mean()) <= 0.8  # one pair per class: far from Bayes
    bayes_accuracy = float((bayes == labels).float().mean())
    assert abs(float((large == labels).float().mean()) - bayes_accuracy) <= 0.03
    assert float((small == labels).float().mean()) < bayes_accuracy - 0.1


def test_adaptive_elimination_keeps_the_best_classes_within_the_budget() -> None:
    gauss = GaussianClasses(k=8, spread=0.2)
    images, _ = gauss.sample(64)
    model = classifier(gauss, 400, keep=2)
    assert model.evaluations == 8 * 25 + 2 * 100 <= 400
    logits = model(images)
    assert (logits.isfinite().sum(1) == 2).all()
    full = classifier(gauss, 400, keep=8)(images)
    assert full.isfinite().all()
    assert float((logits.argmax(1) == full.argmax(1)).float().mean()) >= 0.9


def test_timesteps_are_stratified_by_weight_with_a_seeded_shift() -> None:
    gauss = GaussianClasses(k=2)
    steps = classifier(gauss, 20).timesteps
    assert steps.tolist() == sorted(steps.tolist()) and len(set((steps // 100).tolist())) == 10  # one per stratum
    assert not torch.equal(classifier(gauss, 20, seed=1).timesteps, steps)
    elbo = classifier(gauss, 2000, weighting="elbo").timesteps
    weights = timestep_weights("elbo", SCHEDULE)
    for cut in (1, 10, 100, 500, 900, 990):  # the share of pairs below a timestep is the weights' share
        share = float(weights[:cut].sum() / weights.sum())
        assert float((elbo < cut).double().mean()) == pytest.approx(share, abs=1e-3)


def test_stages_split_the_budget_as_li_et_al() -> None:
    first, second = plan_stages(1000, 20, keep=5)
    assert (first.start, first.stop, second.start, second.stop) == (0, 25, 25, 125)
    assert plan_stages(15, 8) == (Stage(0, 1, 8),)  # too small a budget to eliminate: one pair each
    with pytest.raises(FreqprobeError, match="budget 3 is below one evaluation per class"):
        plan_stages(3, 4)


def test_the_classifier_is_a_fixed_function_of_the_image_given_the_seed() -> None:
    gauss = GaussianClasses()
    images, _ = gauss.sample(12)
    model = classifier(gauss, 64, batch_size=7)
    logits = model(images)
    torch.testing.assert_close(model(images[3:5]), logits[3:5])  # independent of the batch
    torch.testing.assert_close(classifier(gauss, 64)(images), logits)  # and of the chunking
    assert not torch.allclose(classifier(gauss, 64, seed=1)(images), logits)


def test_the_same_noise_serves_every_class() -> None:
    """Li et al.'s variance reduction: classes with one predictor get equal logits."""
    gauss = GaussianClasses(k=2)
    gauss.mean[1], gauss.std[1] = gauss.mean[0], gauss.std[0]
    logits = classifier(gauss, 16)(gauss.sample(8)[0])
    torch.testing.assert_close(logits[:, 0], logits[:, 1])


def test_v_and_sample_predictions_give_the_epsilon_logits() -> None:
    gauss = GaussianClasses(k=2)
    images, _ = gauss.sample(6)
    names = ["a", "b"]
    eps = fp.diffusion_classifier(gauss.eps, names, budget=32, progress=False)(images)
    v = fp.diffusion_classifier(gauss.v, names, budget=32, prediction="v_prediction", progress=False)(images)

    def x0(x_t, t, c):
        a = SCHEDULE[t].view(-1, 1, 1, 1)
        return (x_t - (1 - a).sqrt() * gauss.eps(x_t, t, c)) / a.sqrt()

    sample = fp.diffusion_classifier(x0, names, budget=32, prediction="sample", progress=False)(images)
    torch.testing.assert_close(v, eps, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(sample, eps, rtol=1e-3, atol=1e-4)


def test_a_mapping_picks_the_denoisers_labels_and_a_custom_weighting_is_used() -> None:
    gauss = GaussianClasses(k=3, spread=0.3)
    images, _ = gauss.sample(9)
    subset = fp.diffusion_classifier(gauss.eps, {"x": 2, "y": 0}, budget=20, progress=False)
    full = fp.diffusion_classifier(gauss.eps, ["0", "1", "2"], budget=30, progress=False)
    torch.testing.assert_close(subset(images), full(images)[:, [2, 0]])
    assert subset.class_names == ("x", "y")
    late = torch.zeros(1000, dtype=torch.float64)
    late[500:] = 1.0
    weighted = fp.diffusion_classifier(gauss.eps, ["0", "1", "2"], budget=30, weighting=late, progress=False)
    assert int(weighted.timesteps.min()) >= 500  # timesteps are drawn by weight
    assert not torch.allclose(weighted(images), full(images))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"budget": 2}, "budget 2 is below one evaluation per class"),
        ({"weighting": "snr"}, "unknown weighting 'snr'"),
        ({"weighting": [1.0, 2.0]}, "expected 1000 non-negative weights"),
        ({"schedule": [0.5, 0.9]}, "must lie in \\(0, 1\\] and decrease"),
        ({"prediction": "x0"}, "unknown prediction 'x0'"),
        ({"value_range": (1, -1)}, "low < high"),
    ],
)
def test_bad_arguments_fail_with_one_line_errors(arguments, message) -> None:
    with pytest.raises(FreqprobeError, match=message):
        fp.diffusion_classifier(GaussianClasses(k=3).eps, ["a", "b", "c"], **arguments)


def test_classes_must_be_names_or_a_mapping() -> None:
    with pytest.raises(FreqprobeError, match="at least 2 classes"):
        fp.diffusion_classifier(GaussianClasses().eps, ["a"])
    with pytest.raises(FreqprobeError, match="a sequence of class names"):
        fp.diffusion_classifier(GaussianClasses().eps, "ab")
    with pytest.raises(FreqprobeError, match="class labels \\(int\\)"):
        fp.diffusion_classifier(GaussianClasses().eps, {"a": torch.zeros(2, 3), "b": torch.zeros(2, 3)})


# -- diffusers adapters ----------------------------------------------------------------------
def tiny_class_unet(classes: int = 3):
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    return diffusers.UNet2DModel(
        sample_size=8, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=4, num_class_embeds=classes,
    ).eval()  # fmt: skip


def tiny_text_unet_and_vae():
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        sample_size=4, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        norm_num_groups=4, cross_attention_dim=12, attention_head_dim=2,
    ).eval()  # fmt: skip
    vae = diffusers.AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16), layers_per_block=1,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=4,
    ).eval()  # fmt: skip
    return unet, vae


def one_pair_errors(predict, z0: torch.Tensor, classes: int, step: int) -> torch.Tensor:
    """Minus the error of every class on the single pair of a budget of one per class:
    timestep ``step``, ε the first keyed draw, as the classifier draws it."""
    t = torch.full((len(z0),), step)
    noise = keyed_normal(0, torch.tensor([0]), tuple(z0.shape[1:]), "diffusion-classifier")
    a = SCHEDULE[step]
    noisy = a.sqrt() * z0 + (1 - a).sqrt() * noise
    with torch.no_grad():
        return torch.stack([-(predict(noisy, t, k) - noise).square().flatten(1).mean(1) for k in range(classes)], 1)


def test_a_class_conditional_unet_is_called_with_class_labels() -> None:
    unet = tiny_class_unet(5)
    images = torch.rand(3, 3, 8, 8)
    model = fp.diffusion_classifier(unet, {"cat": 4, "dog": 1, "owl": 2}, budget=3, progress=False)
    with torch.no_grad():
        logits = model(images)
    labels = [4, 1, 2]
    expected = one_pair_errors(lambda x, t, k: unet(x, t, class_labels=torch.full_like(t, labels[k])).sample,
                               2 * images - 1, 3, int(model.timesteps[0]))  # fmt: skip
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-6)


def test_a_text_conditional_latent_unet_is_called_with_one_embedding_per_class() -> None:
    unet, vae = tiny_text_unet_and_vae()
    embeddings = {name: torch.randn(5, 12, generator=torch.Generator().manual_seed(k))
                  for k, name in enumerate(["a photo of a cat", "a photo of a dog"])}  # fmt: skip
    images = torch.rand(2, 3, 8, 8)
    model = fp.diffusion_classifier(unet, embeddings, vae=vae, budget=2, progress=False)
    with torch.no_grad():
        logits = model(images)
        z0 = vae.encode(2 * images - 1).latent_dist.mean * vae.config.scaling_factor
    states = list(embeddings.values())
    expected = one_pair_errors(
        lambda x, t, k: unet(x, t, encoder_hidden_states=states[k].expand(len(x), -1, -1)).sample, z0, 2,
        int(model.timesteps[0]))
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-6)


def test_diffusers_models_without_the_conditioning_are_refused() -> None:
    with pytest.raises(FreqprobeError, match="no class embedding"):
        fp.diffusion_classifier(tiny_class_unet(None), ["a", "b"])
    with pytest.raises(FreqprobeError, match="outside the UNet's 3 class embeddings"):
        fp.diffusion_classifier(tiny_class_unet(3), {"a": 0, "b": 3})
    unet, _ = tiny_text_unet_and_vae()
    with pytest.raises(FreqprobeError, match="mapping name -> text embedding"):
        fp.diffusion_classifier(unet, ["a", "b"])
    with pytest.raises(FreqprobeError, match="width 7; the UNet expects 12"):
        fp.diffusion_classifier(unet, {"a": torch.zeros(5, 7), "b": torch.zeros(5, 7)})


# -- a model like any other --------------------------------------------------------------------
def tiny_unet_classifier() -> torch.nn.Module:
    """A ``module:factory`` for the command-line test."""
    return fp.diffusion_classifier(tiny_class_unet(2), ["a", "b"], budget=4, progress=False)


@pytest.fixture
def labelled_folder(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for k in range(3):
            pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "data" / name / f"{name}{k}.png")
    return tmp_path / "data"


def test_the_probe_takes_it_from_python_and_from_the_command_line(labelled_folder, tmp_path) -> None:
    report = fp.probe(tiny_unet_classifier(), labelled_folder, distortions=["contrast:100,30"], device="cpu")
    assert set(report.trials["object_response"]) <= {"a", "b"}
    assert len(report.trials) == 6 * 3  # the undistorted images and the two contrasts
    out = tmp_path / "run"
    code = main(["probe", "--model", "test_generative_classifier:tiny_unet_classifier", "--data",
                 str(labelled_folder), "--distortions", "contrast:100,30", "--device", "cpu", "--out", str(out)])
    assert code == 0
    trials = pd.read_csv(out / "trials.csv").drop(columns="subj")
    pd.testing.assert_frame_equal(trials, report.trials.drop(columns="subj"), check_dtype=False)


def test_gradients_reach_the_image_for_attribution() -> None:
    gauss = GaussianClasses(k=2)
    images = gauss.sample(4)[0].requires_grad_(True)
    logits = classifier(gauss, 16)(images)
    (logits[:, 0] - logits[:, 1]).sum().backward()
    assert images.grad is not None and float(images.grad.abs().sum()) > 0


def test_attribute_takes_it_where_gradients_are_affordable() -> None:
    real, fake = fp.demo_sets(n=6, size=8)
    model = fp.diffusion_classifier(tiny_class_unet(2), ["real", "generated"], budget=2, progress=False)
    report = fp.attribute(model, real, fake, bands=2, methods=["ig"], pixel_methods=[], n_images=6, ig_steps=2,
                          bootstrap=20, device="cpu")  # fmt: skip
    assert sorted(report.ranking["ig"]) == [1, 2]


def test_a_half_precision_unet_gets_half_precision_inputs() -> None:
    unet = tiny_class_unet(2).to(torch.bfloat16)
    logits = fp.diffusion_classifier(unet, ["a", "b"], budget=2, progress=False)(torch.rand(2, 3, 8, 8))
    assert logits.dtype == torch.float32 and logits.isfinite().all()
