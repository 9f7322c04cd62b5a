"""Pixel maps through Captum: completeness, localisation, the Grad-CAM layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from freqprobe.attribution.pixel_maps import disable_inplace, find_gradcam_layer, last_conv_block, pixel_maps
from freqprobe.errors import FreqprobeError

from synthetic import natural_like


class QuadrantMean(nn.Module):
    """Logits ``(0, 10 * mean of the top-left quadrant)``: evidence in one known region."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        score = 10 * x[:, :, :half, :half].mean(dim=(1, 2, 3))
        return torch.stack([torch.zeros_like(score), score], dim=1)


def conv_relu_pool() -> nn.Sequential:
    """One channel that copies the red channel, an in-place ReLU, global mean: Grad-CAM is that channel's map."""
    conv = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))
    return nn.Sequential(conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1, 2))


def test_integrated_gradients_sum_to_the_score_minus_the_black_image() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Softplus(), nn.Flatten(), nn.Linear(4 * 14 * 14, 2)).eval()
    x, targets = natural_like(3, 16, 16), torch.tensor([0, 1, 1])
    maps = pixel_maps(model, x, targets, "ig", ig_steps=64, max_batch=256)
    expected = (model(x) - model(torch.zeros_like(x))).gather(1, targets[:, None])[:, 0]
    torch.testing.assert_close(maps.sum(dim=(1, 2)), expected.detach(), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("method", ["ig", "smoothgrad", "occlusion"])
def test_maps_live_where_the_evidence_is(method: str) -> None:
    x, targets = natural_like(2, 16, 16, seed=4), torch.tensor([1, 1])
    maps = pixel_maps(QuadrantMean(), x, targets, method, ig_steps=8, max_batch=64).abs()
    inside = maps[:, :8, :8].mean()
    far = maps[:, 10:, 10:]  # beyond the reach of any occlusion window that touches the quadrant
    assert inside > 0 and torch.all(far < 1e-6 * inside)


def test_gradcam_shows_the_feature_map_of_the_last_block() -> None:
    model = conv_relu_pool().eval()
    with torch.no_grad():
        model[-1].weight.copy_(torch.tensor([[-1.0], [1.0]]))
    disable_inplace(model)
    x = torch.zeros(1, 3, 16, 16)
    x[:, 0, 4:7, 9:12] = 1.0  # a red square
    layer = last_conv_block(model, x)
    assert layer is model[1] and model[1].inplace is False
    maps = pixel_maps(model, x, torch.tensor([1]), "gradcam", ig_steps=1, max_batch=8, layer=layer)
    torch.testing.assert_close(maps[0] / maps[0].max(), x[0, 0])


def test_gradcam_needs_a_feature_map() -> None:
    with pytest.raises(FreqprobeError, match="no convolutional feature map larger than 1x1"):
        last_conv_block(nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2)), torch.zeros(2, 3, 8, 8))


def test_gradcam_layer_by_name_switches_in_place_activations_off() -> None:
    model = conv_relu_pool()
    assert find_gradcam_layer(model, "1", torch.zeros(1, 3, 8, 8)) is model[1] and model[1].inplace is False


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("scripted", "name", "reason"),
    [
        (True, None, "not TorchScript"),
        (False, "head", "gradcam_layer='head' is not a module of the model; its modules: 0, 1, 2"),
    ],
)
def test_gradcam_layer_errors_are_one_line(scripted: bool, name: str | None, reason: str) -> None:
    model = torch.jit.script(conv_relu_pool()) if scripted else conv_relu_pool()
    with pytest.raises(FreqprobeError, match=reason) as err:
        find_gradcam_layer(model, name, torch.zeros(1, 3, 8, 8))
    assert "\n" not in str(err.value)
