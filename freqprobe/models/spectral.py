"""Whole-image spectral statistics, and the fitted linear read-out of them that the
default recipe adds to a network's logits (``SpectralReadout``).

A faint periodic pattern is one Fourier coefficient of the whole image; a network that
reads local energy (receptive fields of 12 to about 70 px) sees it only in a wide band,
where a photo's own 1/f^2 content masks it at low frequencies (docs/limits.md measures
this). These features read narrow bins:

- the log power spectrum of the luminance (the mean of the channels; ``rfft2``, power
  averaged over square groups of bins when the image is larger than 32 px, so there are
  at most 32 x 17 of them);
- the mean over 8x8 tiles of ``log(|DCT coefficient| + 1/255)`` for each of the 64
  coefficients and each channel (the JPEG-grid statistics of Frank et al., 2020).

They are what the linear second opinion reads (``training/linear.py``), and what the
read-out of the default recipe reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import FreqprobeError
from ..transforms.dct import block_dct

#: At most this many spectrum rows per channel (larger images pool their bins).
SPECTRUM_SIDE = 32
#: L2 penalty on the logistic weights, for the mean cross-entropy over standardised features.
LAMBDA = 1e-2
#: The read-out's held-out logits come from this many folds of the training images.
FOLDS = 4


def spectral_features(x: Tensor) -> Tensor:
    """``(N, F)`` float32 features of float images ``(N, C, H, W)`` (see the module docstring)."""
    n, c, height, width = x.shape
    power = torch.fft.rfft2(x.float().mean(dim=1, keepdim=True)).abs().square()
    pool = max(1, math.ceil(max(height, width) / SPECTRUM_SIDE))
    if pool > 1:
        power = F.avg_pool2d(power, pool, ceil_mode=True)
    parts = [torch.log(power + 1e-6 * height * width).flatten(1)]
    if height >= 8 and width >= 8:
        tiles_y, tiles_x = height // 8, width // 8
        coeffs = block_dct(x[..., : 8 * tiles_y, : 8 * tiles_x].float(), 8).view(n, c, tiles_y, 8, tiles_x, 8)
        parts.append(torch.log(coeffs.abs().add(1 / 255)).mean(dim=(2, 4)).reshape(n, c * 64))
    return torch.cat(parts, dim=1)


def spectral_feature_count(channels: int, height: int, width: int) -> int:
    """How many features ``spectral_features`` gives for ``(channels, height, width)`` inputs."""
    return int(spectral_features(torch.zeros(1, channels, height, width)).shape[1])


def labelled_features(batches: Iterable[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    """``spectral_features`` of every ``(images, labels)`` batch, and the labels (CPU)."""
    features, labels = [], []
    for x, y in batches:
        features.append(spectral_features(x).cpu())
        labels.append(y.cpu())
    return torch.cat(features), torch.cat(labels)


def fit_logistic(X: Tensor, y: Tensor, num_classes: int, penalty: float = LAMBDA) -> tuple[Tensor, Tensor]:
    """Weights ``(F, K)`` and bias ``(K,)`` minimising mean cross-entropy + ``penalty/2 |W|^2``
    (full-batch L-BFGS, deterministic)."""
    weight = torch.zeros(X.shape[1], num_classes, requires_grad=True)
    bias = torch.zeros(num_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias], lr=1, max_iter=300, tolerance_grad=1e-6, tolerance_change=1e-10, line_search_fn="strong_wolfe"
    )

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(X @ weight + bias, y) + penalty / 2 * weight.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return weight.detach(), bias.detach()


def stratified_folds(labels: Tensor, folds: int, seed: int) -> Tensor:
    """A fold ``0..folds-1`` per sample: a random order (from ``seed``), dealt out class by class."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    order = order[torch.sort(labels[order], stable=True).indices]  # grouped by class, random within
    fold = torch.empty_like(labels)
    fold[order] = torch.arange(len(labels)) % folds
    return fold


def fit_gain(logits: Tensor, labels: Tensor, offset: Tensor | float = 0.0) -> Tensor:
    """The scale ``g >= 0`` minimising the mean cross-entropy of ``g * logits + offset``
    (held-out logits: ``g`` near 0 when they carry nothing, below 1 when over-confident)."""
    gain = torch.ones((), requires_grad=True)
    optimizer = torch.optim.LBFGS([gain], lr=1, max_iter=100, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(gain * logits + offset, labels)
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return gain.detach().clamp_min(0)


class SpectralReadout(nn.Module):
    """``gain * (standardised spectral_features(x) @ weight + bias)``: a logistic regression
    on the linear second opinion's features, fitted in closed form (not trained), whose
    logits are added to a network's (scaled by ``network_gain``).

    ``fit`` fits it on the training images and returns its *held-out* logits for them (each
    from a fit on the other folds): the network is trained on top of those, so it learns
    what the read-out does not explain, against honest logits, never its over-fit ones.
    ``gain`` calibrates the held-out logits (near 0 when the features carry nothing, so the
    network is then trained and scored as it is alone); ``network_gain`` (1 in training)
    is set after training on images the network did not see (``training/stacking.py``).
    """

    def __init__(self, num_features: int, num_classes: int, size: tuple[int, int]) -> None:
        super().__init__()
        self.size = tuple(size)  #: the image size its features are laid out for (H, W)
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("std", torch.ones(num_features))
        self.register_buffer("weight", torch.zeros(num_features, num_classes))
        self.register_buffer("bias", torch.zeros(num_classes))
        self.register_buffer("gain", torch.zeros(()))
        self.register_buffer("network_gain", torch.ones(()))

    @torch.no_grad()
    def fit(self, features: Tensor, labels: Tensor, seed: int) -> Tensor:
        """Fit on ``(N, F)`` features and labels (CPU); returns the ``(N, K)`` held-out logits
        (times ``gain``, CPU), in the order of ``features``."""
        num_classes = self.weight.shape[1]
        mean, std = features.mean(0), features.std(0).clamp_min(1e-6)
        z = (features - mean) / std
        weight, bias = fit_logistic(z, labels, num_classes)
        held_out, gain = torch.zeros(len(labels), num_classes), torch.zeros(())
        smallest = int(torch.bincount(labels, minlength=num_classes).min())
        if smallest >= 2:  # else no held-out logits: gain 0, the network alone
            fold = stratified_folds(labels, min(FOLDS, smallest), seed)
            for k in range(int(fold.max()) + 1):
                fold_weight, fold_bias = fit_logistic(z[fold != k], labels[fold != k], num_classes)
                held_out[fold == k] = z[fold == k] @ fold_weight + fold_bias
            gain = fit_gain(held_out, labels)
        for buffer, value in zip((self.mean, self.std, self.weight, self.bias, self.gain), (mean, std, weight, bias, gain)):
            buffer.copy_(value)
        return gain * held_out

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[-2:]) != self.size:  # its spectrum bins are those of one size
            height, width = self.size
            raise FreqprobeError(
                f"this classifier's spectral read-out was fitted on {height}x{width} images, got "
                f"{x.shape[-2]}x{x.shape[-1]}; give images of that size (size={height} crops them)"
            )
        z = (spectral_features(x) - self.mean) / self.std
        return self.gain * (z @ self.weight + self.bias)
