"""Building classifiers by name, and the input normalisation every classifier carries.

Transforms do not clip, so a filtered set can have any range (a high-pass is centred on
0 with a small spread): each classifier starts with a per-channel standardisation whose
mean and std are fitted on the training images of its variant, and saved with it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..errors import FreqprobeError
from .fastnet import FastNet
from .resnet import ResNet18

MODELS: dict[str, Callable[[int, int], nn.Module]] = {
    "fast": lambda num_classes, image_size: FastNet(num_classes),
    "resnet18": lambda num_classes, image_size: ResNet18(num_classes, image_size),
}


class Classifier(nn.Module):
    """``net((x - mean) / std)``: a network behind a fitted per-channel standardisation."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.zeros(1, 3, 1, 1))
        self.register_buffer("std", torch.ones(1, 3, 1, 1))

    @torch.no_grad()
    def fit_normalization(self, batches) -> None:
        """Fit mean and std per channel from float ``(N, 3, H, W)`` batches (float64 sums)."""
        total = torch.zeros(3, dtype=torch.float64)
        squares = torch.zeros(3, dtype=torch.float64)
        count = 0
        for x in batches:
            total += x.sum(dim=(0, 2, 3), dtype=torch.float64).cpu()
            squares += x.square().sum(dim=(0, 2, 3), dtype=torch.float64).cpu()
            count += x.shape[0] * x.shape[2] * x.shape[3]
        mean = total / count
        std = (squares / count - mean**2).clamp_min(0).sqrt()
        self.mean.copy_(mean.view(1, 3, 1, 1))
        self.std.copy_(std.clamp_min(1e-6).view(1, 3, 1, 1))  # a constant channel stays finite

    def forward(self, x: Tensor) -> Tensor:
        return self.net((x - self.mean) / self.std)


def build_classifier(name: str, num_classes: int, image_size: int) -> Classifier:
    """A fresh ``Classifier`` around ``fast``, ``resnet18`` or a user's ``module:factory``.

    A factory is called as ``factory(num_classes=K)`` and must return an ``nn.Module``
    mapping ``(N, 3, H, W)`` to ``(N, K)`` logits; that is checked on a dummy batch.
    """
    if name in MODELS:
        net = MODELS[name](num_classes, image_size)
    elif ":" in name:
        net = _from_factory(name, num_classes)
    else:
        raise FreqprobeError(f"unknown model {name!r}; choose {', '.join(MODELS)} or give module:factory")
    model = Classifier(net)
    check_logits(model, num_classes, image_size, name)
    return model


def _from_factory(name: str, num_classes: int) -> nn.Module:
    module_name, _, factory_name = name.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), factory_name)
    except (ImportError, AttributeError) as err:
        raise FreqprobeError(f"model {name!r}: cannot import {factory_name} from {module_name} ({err})") from None
    try:
        net = factory(num_classes=num_classes)
    except Exception as err:  # a user's factory can fail in any way
        raise FreqprobeError(f"model {name!r}: {factory_name}(num_classes={num_classes}) failed: {err}") from None
    if not isinstance(net, nn.Module):
        raise FreqprobeError(f"model {name!r}: the factory returned {type(net).__name__}, not an nn.Module")
    return net


@torch.no_grad()
def check_logits(model: nn.Module, num_classes: int, image_size: int, name: str) -> None:
    """Raise a one-line error unless ``model`` maps ``(2, 3, S, S)`` to ``(2, K)``."""
    was_training = model.training
    model.eval()
    try:
        out = model(torch.zeros(2, 3, image_size, image_size))
    except Exception as err:  # a user's model can fail in any way
        raise FreqprobeError(f"model {name!r} fails on a (2, 3, {image_size}, {image_size}) batch: {err}") from None
    finally:
        model.train(was_training)
    if not isinstance(out, Tensor) or tuple(out.shape) != (2, num_classes):
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise FreqprobeError(f"model {name!r} must map (N, 3, H, W) to (N, {num_classes}) logits, got {got}")
