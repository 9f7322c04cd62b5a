"""``FastNet``: the default classifier, sized for 32–256 px images and a 2-core CPU.

A strided patch stem (linear, so it can demodulate periodic patterns such as an
up-sampling checkerboard into a constant feature before anything is thrown away), then
Conv-BN-GELU stages that halve the resolution, and a head on the mean and the max of the
last features (the max keeps evidence that lives in a few places of the image). The stem
is either learned (the plain recipe) or a fixed patch whitening fitted on the training
images (the default recipe; ``models/whitening.py`` says why).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .whitening import PatchWhitening


def conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    padding = kernel // 2 if stride == 1 else 0
    return [nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False), nn.BatchNorm2d(cout), nn.GELU()]


class FastNet(nn.Module):
    """Patch stem (``stem x stem``, stride ``stem``), then one conv stage per width.

    Args:
        num_classes: K.
        in_channels: 3 for images; more for a representation (``repr:dct8`` has 192).
        widths: channels of the stages; every stage but the first starts with a 2x max-pool.
        stem: patch size and stride of the stem.
        whiten: a fixed patch-whitening stem (``.whitening``, fitted before training)
            instead of a learned one.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 3,
        widths: tuple[int, ...] = (32, 64, 128),
        stem: int = 4,
        whiten: bool = False,
    ) -> None:
        super().__init__()
        if whiten:  # every component, already zero-mean and unit-variance, goes to the first stage
            self.whitening = PatchWhitening(in_channels, stem, stem)
            channels = self.whitening.out_channels
            layers: list[nn.Module] = [self.whitening]
        else:
            channels = widths[0] // 2
            layers = conv_bn(in_channels, channels, kernel=stem, stride=stem)
        for i, width in enumerate(widths):
            if i:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            layers += conv_bn(channels, width)
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(2 * channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        features = self.features(x)
        return self.head(torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1))
