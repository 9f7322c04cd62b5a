"""Fourier sensitivity and the Fourier heat map, against closed forms."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from freqprobe.attribution.fourier_maps import basis_images, fourier_heatmap, fourier_sensitivity, radial_profile

from synthetic import natural_like


class Projection(nn.Module):
    """Logits ``(0, <x, w>)`` for a fixed weight image ``w``: a linear detector."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("weight", weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = (x * self.weight).sum(dim=(1, 2, 3))
        return torch.stack([torch.zeros_like(score), score], dim=1)


class FrequencyDetector(nn.Module):
    """Says fake (logit 1 > 0) when the image's power at one frequency exceeds a threshold."""

    def __init__(self, size: int, row: int, col: int, threshold: float) -> None:
        super().__init__()
        self.row, self.col, self.threshold = row, col, threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        power = torch.fft.fft2(x)[:, :, self.row, self.col].abs().square().sum(dim=1)
        return torch.stack([torch.zeros_like(power), power - self.threshold], dim=1)


def one_batch(x: torch.Tensor, labels: torch.Tensor):
    return iter([(x, labels, labels)])


def test_sensitivity_is_the_spectrum_of_the_pixel_gradient() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 16 * 16, 2))
    x, labels = natural_like(4, 16, 16), torch.tensor([0, 0, 1, 1])
    sensitivity = fourier_sensitivity(model, one_batch(x, labels), 16, 16)
    leaf = x.clone().requires_grad_()
    model(leaf).gather(1, labels[:, None]).sum().backward()
    expected = (torch.fft.fft2(leaf.grad.double()).abs() / 256).mean(dim=1)
    torch.testing.assert_close(sensitivity[0], expected[:2].mean(dim=0), rtol=1e-4, atol=1e-9)
    torch.testing.assert_close(sensitivity[1], expected[2:].mean(dim=0), rtol=1e-4, atol=1e-9)


def test_a_detector_of_one_cosine_is_sensitive_at_that_frequency_only() -> None:
    weight = basis_images(16, 16, torch.tensor([3]), torch.tensor([5]), torch.device("cpu"))[0].expand(3, 16, 16)
    x, labels = natural_like(2, 16, 16), torch.tensor([1, 1])
    sensitivity = fourier_sensitivity(Projection(weight.contiguous()), one_batch(x, labels), 16, 16)[1]
    peaks = sensitivity > 1e-3 * sensitivity.max()
    assert peaks.sum() == 2 and peaks[3, 5] and peaks[-3, -5]


def test_radial_profile_is_the_ring_mean() -> None:
    plane = torch.rand(2, 12, 20, dtype=torch.float64)
    f, profile = radial_profile(plane)
    radius = np.hypot(np.fft.fftfreq(12)[:, None], np.fft.fftfreq(20)[None, :])
    bins = np.floor(radius * 12 + 0.5).astype(int)
    for k in (1, 4, 7):
        np.testing.assert_allclose(profile[:, k].numpy(), plane.numpy()[:, bins == k].mean(axis=1))
    assert f[1] == 1 / 12 and profile.shape == (2, int(bins.max()) + 1)


def test_basis_images_are_unit_cosines() -> None:
    basis = basis_images(8, 10, torch.tensor([0, 4, 2]), torch.tensor([0, 5, 3]), torch.device("cpu")).double()
    torch.testing.assert_close(basis.square().sum(dim=(1, 2)), torch.ones(3, dtype=torch.float64))
    spectrum = torch.fft.fft2(basis).abs() > 1e-4
    assert spectrum[2].sum() == 2 and spectrum[2, 2, 3] and spectrum[2, -2, -3]


def test_heatmap_flags_exactly_the_detected_frequency_and_its_mirror() -> None:
    images = torch.full((6, 3, 16, 16), 0.5)  # power only at DC: every image is classified real
    detector = FrequencyDetector(16, row=2, col=13, threshold=1.0)
    labels = torch.tensor([0, 0, 0, 0, 1, 1])  # the two "fake" images are wrong everywhere but at the mirror pair
    generator = torch.Generator().manual_seed(0)
    errors, clean = fourier_heatmap(detector, images, labels, labels, eps=2.0, max_batch=40, generator=generator)
    assert clean.tolist() == [0.0, 1.0]
    expected = torch.zeros(16, 16, dtype=torch.float64)
    expected[2, 13] = expected[-2, -13] = 1.0
    assert torch.equal(errors[0], expected) and torch.equal(errors[1], 1 - expected)
