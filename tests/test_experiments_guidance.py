"""Realism guidance, proven on Gaussian-mixture data whose denoiser is analytic.

Generated and real samples share two modes at x1 = ±2 with weights 0.8/0.2 and 0.2/0.8.
Within a mode p(real | x) is constant (0.2 or 0.8), so sampling p_gen(x) p(real | x)^w puts
the fraction 0.2·0.8^w / (0.2·0.8^w + 0.8·0.2^w) in the right mode: 1/2 at w = 1, and
exactly the real 0.8 at w = 2 — where the guided samples are the real distribution.
"""

from __future__ import annotations

import pytest
import torch

import freqprobe as fp
from freqprobe.errors import FreqprobeError
from freqprobe.experiments.analytic import GaussianMixture
from freqprobe.experiments.guidance import NoiseSchedule, RealismGuidance, ddim_sample, train_realism_classifier

MEANS = torch.tensor([[-2.0, 0.0], [2.0, 0.0]])
GENERATED, REAL, SD = torch.tensor([0.8, 0.2]), torch.tensor([0.2, 0.8]), 0.5
SCHEDULE = NoiseSchedule.linear(50)


GENERATED_MIXTURE = GaussianMixture(MEANS, GENERATED, SD)
REAL_MIXTURE = GaussianMixture(MEANS, REAL, SD)


def two_sample_accuracy(a: torch.Tensor, b: torch.Tensor) -> float:
    """Held-out accuracy of a logistic regression telling ``a`` from ``b`` (first halves train)."""
    half = len(a) // 2
    x = torch.cat([a[:half], b[:half]])
    y = torch.cat([torch.zeros(half), torch.ones(half)])
    w = torch.zeros(3, requires_grad=True)
    optimizer = torch.optim.LBFGS([w], max_iter=100)

    def loss():
        optimizer.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(x @ w[:2] + w[2], y)
        value.backward()
        return value

    optimizer.step(loss)
    test = torch.cat([a[half:], b[half:]])
    truth = torch.cat([torch.zeros(len(a) - half), torch.ones(len(b) - half)])
    return float((((test @ w[:2] + w[2]) > 0).float() == truth).float().mean())


@pytest.fixture(scope="module")
def classifier() -> torch.nn.Module:
    real, generated = REAL_MIXTURE.sample(2000, 1), GENERATED_MIXTURE.sample(2000, 2)
    return train_realism_classifier(real, generated, SCHEDULE, iterations=500, batch_size=128, progress=False,
                                    device="cpu")  # fmt: skip


@pytest.fixture(scope="module")
def samples(classifier) -> dict[float, torch.Tensor]:
    noise = torch.randn(2000, 2, generator=torch.Generator().manual_seed(3))
    eps = GENERATED_MIXTURE.eps(SCHEDULE)
    return {w: ddim_sample(eps, noise, SCHEDULE, RealismGuidance(classifier, w) if w else None) for w in (0, 1, 2)}


def test_unguided_analytic_sampling_reproduces_the_generated_mixture(samples) -> None:
    assert float((samples[0][:, 0] > 0).float().mean()) == pytest.approx(0.2, abs=0.03)


def test_guidance_moves_the_mode_weights_to_the_closed_form_tilt(samples) -> None:
    assert float((samples[1][:, 0] > 0).float().mean()) == pytest.approx(0.5, abs=0.06)
    assert float((samples[2][:, 0] > 0).float().mean()) == pytest.approx(0.8, abs=0.06)


def test_guided_samples_take_the_real_mean(samples) -> None:
    real_mean = float((REAL * MEANS[:, 0]).sum())  # +1.2; the generated mean is -1.2
    assert float(samples[0][:, 0].mean()) == pytest.approx(-real_mean, abs=0.15)
    assert float(samples[2][:, 0].mean()) == pytest.approx(real_mean, abs=0.25)
    assert float(samples[2][:, 1].mean()) == pytest.approx(0.0, abs=0.1)  # nothing moves where nothing differs


def test_distribution_classification_falls_to_chance_under_guidance(samples) -> None:
    real = REAL_MIXTURE.sample(2000, 4)
    unguided, guided = two_sample_accuracy(samples[0], real), two_sample_accuracy(samples[2], real)
    assert unguided > 0.75  # the mode weights differ by 0.6: Bayes accuracy 0.8
    assert guided < 0.56


def test_guidance_is_the_scaled_gradient_of_log_p_real(classifier) -> None:
    guidance = RealismGuidance(classifier, scale=3.0)
    x, t, h = torch.tensor([[0.3, -0.2]]), 10, 1e-3
    numeric = [
        (guidance.log_prob_real(x + h * e, t) - guidance.log_prob_real(x - h * e, t)) / (2 * h) for e in torch.eye(2)
    ]
    assert torch.allclose(guidance(x, t), 3.0 * torch.cat(numeric)[None], atol=1e-3)


def test_images_are_accepted_and_a_step_along_the_guidance_looks_more_real() -> None:
    generator = torch.Generator().manual_seed(0)
    real = fp.ImageSet((torch.rand(64, 3, 8, 8, generator=generator) * 100 + 155).to(torch.uint8))
    generated = fp.ImageSet((torch.rand(64, 3, 8, 8, generator=generator) * 100).to(torch.uint8))
    guidance = fp.realism_guidance(real, generated, SCHEDULE, scale=1.0, iterations=60, batch_size=32,
                                   progress=False, device="cpu")  # fmt: skip
    x = torch.randn(8, 3, 8, 8, generator=generator)
    g = guidance(x, torch.full((8,), 5))
    assert g.shape == x.shape
    assert bool((guidance.log_prob_real(x + 0.05 * g / g.norm(), 5) > guidance.log_prob_real(x, 5)).all())


def test_mismatched_shapes_and_schedules_are_refused() -> None:
    with pytest.raises(FreqprobeError, match="real samples are"):
        train_realism_classifier(torch.zeros(4, 2), torch.zeros(4, 3), SCHEDULE, progress=False)
    with pytest.raises(FreqprobeError, match="same length"):
        NoiseSchedule(torch.ones(3), torch.ones(4))
