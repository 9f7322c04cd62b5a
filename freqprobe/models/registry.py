"""Building classifiers by name, and the input normalisation every classifier carries.

Transforms do not clip, so a filtered set can have any range (a high-pass is centred on
0 with a small spread): each classifier starts with a per-channel standardisation whose
mean and std are fitted on the training images of its variant, and saved with it; a
built-in network with a whitening stem has that fitted next (``Classifier.fit_input``),
and one with a spectral read-out has it fitted before training (``Classifier.fit_readout``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import FreqprobeError, one_line
from .fastnet import FastNet
from .loading import build_from_factory
from .resnet import ResNet18
from .spectral import SpectralReadout, labelled_features, spectral_feature_count
from .whitening import PatchWhitening
from ..suggest import did_you_mean

#: ``(C, H, W)`` of a classifier's input: ``(3, S, S)`` for images, more channels for a representation.
Shape = tuple[int, int, int]


def stem_size(shape: Shape) -> int:
    """FastNet's stem: 4x4 patches of images; a representation that already packs
    ``b x b`` pixels into channels (``repr:dct8``: 8x8 into 64) gets ``b`` times smaller ones."""
    packed = math.isqrt(max(shape[0] // 3, 1))  # pixels per side in one position: 1, 2 (wavelet), 8 (dct8)
    return max(1, 4 // packed)


MODELS: dict[str, Callable[[int, Shape, bool], nn.Module]] = {
    "fast": lambda k, shape, whiten: FastNet(k, shape[0], stem=stem_size(shape), whiten=whiten),
    "resnet18": lambda k, shape, whiten: ResNet18(k, shape[1], shape[0], whiten=whiten),
}


class Classifier(nn.Module):
    """``net((x - mean) / std)``: a network behind a fitted per-channel standardisation;
    with a fitted ``SpectralReadout`` (``readout``), its ``network_gain`` times that plus the
    read-out's logits of ``x``.

    ``class_names`` names the outputs in order when they are known (a study's classes, the
    real set first); ``fp.probe`` and ``fp.attribute`` read it.
    """

    def __init__(self, net: nn.Module, channels: int = 3, readout: SpectralReadout | None = None) -> None:
        super().__init__()
        self.net = net
        self.readout = readout
        self.class_names: tuple[str, ...] | None = None
        self.register_buffer("mean", torch.zeros(1, channels, 1, 1))
        self.register_buffer("std", torch.ones(1, channels, 1, 1))

    def fit_input(self, batches: Callable[[], Iterable[Tensor]]) -> None:
        """Fit the standardisation, then the net's whitening stem (if it has one), on the
        training inputs; ``batches()`` yields them afresh on each call."""
        self.fit_normalization(batches())
        whitening = getattr(self.net, "whitening", None)
        if isinstance(whitening, PatchWhitening):
            whitening.fit(self.standardize(x) for x in batches())

    def fit_readout(self, batches: Iterable[tuple[Tensor, Tensor]], seed: int) -> Tensor | None:
        """Fit the spectral read-out (if there is one) on the training ``(inputs, labels)``,
        in order; returns its held-out logits for them ``(N, K)`` on the model's device, to be
        passed as ``readout_logits`` in training (``SpectralReadout`` says why)."""
        if self.readout is None:
            return None
        features, labels = labelled_features(batches)
        return self.readout.fit(features, labels, seed).to(self.mean.device)

    @torch.no_grad()
    def fit_normalization(self, batches) -> None:
        """Fit mean and std per channel from float ``(N, C, H, W)`` batches."""
        channels = self.mean.shape[1]
        total = torch.zeros(channels, dtype=torch.float64)
        squares = torch.zeros(channels, dtype=torch.float64)
        count = 0
        for x in batches:  # float32 sums within a batch (pairwise, accurate), float64 across
            total += x.sum(dim=(0, 2, 3)).double().cpu()
            squares += x.square().sum(dim=(0, 2, 3)).double().cpu()
            count += x.shape[0] * x.shape[2] * x.shape[3]
        mean = total / count
        std = (squares / count - mean**2).clamp_min(0).sqrt()
        self.mean.copy_(mean.view(self.mean.shape))
        self.std.copy_(std.clamp_min(1e-6).view(self.std.shape))  # a constant channel stays finite

    def standardize(self, x: Tensor) -> Tensor:
        """``(x - mean) / std`` per channel, in one fused pass (batch norm's inference kernel)."""
        return F.batch_norm(x, self.mean.flatten(), self.std.flatten().square(), training=False, eps=0.0)

    def forward(self, x: Tensor, readout_logits: Tensor | None = None) -> Tensor:
        """Logits of ``x``; ``readout_logits`` stand in for the read-out's own (in training:
        its held-out logits of these images)."""
        logits = self.net(self.standardize(x))
        if self.readout is None:
            return logits
        return self.readout.network_gain * logits + (self.readout(x) if readout_logits is None else readout_logits)


def build_classifier(
    name: str, num_classes: int, shape: Shape, whiten: bool = False, readout: bool = False
) -> Classifier:
    """A fresh ``Classifier`` for inputs of ``shape`` around ``fast``, ``resnet18`` or a
    user's ``module:factory``; ``whiten`` gives a built-in network its whitening stem,
    ``readout`` a spectral read-out (on image inputs, 3 channels; not on representations).

    A factory is called as ``factory(num_classes=K)`` and must return an ``nn.Module``
    mapping ``(N, C, H, W)`` to ``(N, K)`` logits; that is checked on a dummy batch. A
    user's network has no whitening stem and no read-out (``whiten`` and ``readout`` do
    not apply to it: it is measured as it is).
    """
    spectral = None
    if name in MODELS:
        net = MODELS[name](num_classes, shape, whiten)
        if readout and shape[0] == 3:
            spectral = SpectralReadout(spectral_feature_count(*shape), num_classes, shape[1:])
    elif ":" in name:
        net = build_from_factory(name, num_classes=num_classes)
    else:
        raise FreqprobeError(
            f"unknown model {name!r}{did_you_mean(name, MODELS)}; choose {', '.join(MODELS)} or give module:factory"
        )
    model = Classifier(net, shape[0], spectral)
    check_logits(model, num_classes, shape, name)
    return model


@torch.no_grad()
def check_logits(model: nn.Module, num_classes: int, shape: Shape, name: str) -> None:
    """Raise a one-line error unless ``model`` maps ``(2, C, H, W)`` to ``(2, K)``."""
    was_training = model.training
    model.eval()
    try:
        out = model(torch.zeros(2, *shape))
    except Exception as err:  # a user's model can fail in any way
        raise FreqprobeError(f"model {name!r} fails on a {(2, *shape)} batch: {one_line(err)}") from None
    finally:
        model.train(was_training)
    if not isinstance(out, Tensor) or tuple(out.shape) != (2, num_classes):
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise FreqprobeError(f"model {name!r} must map (N, 3, H, W) to (N, {num_classes}) logits, got {got}")
