"""A ResNet-18 (He et al., 2016) for 32–256 px images, trained from scratch.

Stem: 3x3 convolution at full resolution for images up to 64 px (as for CIFAR), the
ImageNet 7x7 stride-2 convolution and max-pool above; with ``whiten``, a fixed 2x2
patch whitening (``models/whitening.py``) comes first. ReLUs are not in-place, so
Captum's layer attributions work on it.
"""

from __future__ import annotations

from torch import Tensor, nn

from .whitening import PatchWhitening


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, num_classes: int, image_size: int = 64, in_channels: int = 3, whiten: bool = False) -> None:
        super().__init__()
        stem: list[nn.Module] = []
        if whiten:
            self.whitening = PatchWhitening(in_channels, 2, 1)
            in_channels = self.whitening.out_channels
            stem = [self.whitening]
        if image_size <= 64:
            stem += [nn.Conv2d(in_channels, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
        else:
            stem += [
                nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(64),
                nn.ReLU(),
                nn.MaxPool2d(3, 2, 1),
            ]
        blocks: list[nn.Module] = []
        channels = 64
        for width, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            blocks += [BasicBlock(channels, width, stride), BasicBlock(width, width, 1)]
            channels = width
        self.features = nn.Sequential(*stem, *blocks)
        self.head = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))
