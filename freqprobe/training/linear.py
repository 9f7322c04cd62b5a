"""The linear second opinion: logistic regression on spectral statistics of the images.

A network can miss a difference that a linear read-out of the right coefficients finds
at once (a faint periodic pattern is one Fourier coefficient; a JPEG re-encoding shifts
the statistics of the 8x8 DCT coefficients). Every study therefore also fits, per task
and variant, a multinomial logistic regression on two fixed representations of the
training images, and scores it on the test images beside the network:

- the log power spectrum of the luminance (the mean of the channels; ``rfft2``, power
  averaged over square groups of bins when the image is larger than 32 px, so there are
  at most 32 x 17 of them);
- the mean over 8x8 tiles of ``log(|DCT coefficient| + 1/255)`` for each of the 64
  coefficients and each channel (the JPEG-grid statistics of Frank et al., 2020; the DC
  terms carry the colour balance).

One spectrum rather than three, in groups of bins, keeps the fit under a second for a few
thousand images (736 features at 64 px); measured on 64 px photo crops it was also more
accurate than the full per-channel spectra (6 528 features), which overfit.

Features are standardised on the training images; the L2 penalty ``LAMBDA`` is fixed (the
test images choose nothing). The fit is full-batch L-BFGS, deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from ..models.spectral import LAMBDA, fit_logistic, labelled_features, spectral_features


class LinearProbe:
    """Multinomial logistic regression on ``spectral_features``, fitted by ``fit``."""

    def __init__(self) -> None:
        self.mean = self.std = self.weight = self.bias = None

    def fit(self, batches: Iterable[tuple[Tensor, Tensor]], num_classes: int) -> LinearProbe:
        """``batches`` yields ``(float images, labels)``; features are kept on the CPU."""
        X, y = labelled_features(batches)
        self.mean, self.std = X.mean(0), X.std(0).clamp_min(1e-6)
        self.weight, self.bias = fit_logistic((X - self.mean) / self.std, y, num_classes, LAMBDA)
        return self

    @torch.no_grad()
    def predict_proba(self, x: Tensor) -> Tensor:
        """Class probabilities ``(N, K)`` (CPU, float64)."""
        z = (spectral_features(x).cpu() - self.mean) / self.std
        return torch.softmax((z @ self.weight + self.bias).double(), dim=1)
