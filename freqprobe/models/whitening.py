"""A fixed patch-whitening first layer, fitted on the training images.

Photos put nearly all their variance in the lowest frequencies (the 1/f^2 power
spectrum), so a network trained on raw pixels follows the gradients of the coarse
structure and never looks at faint fine-scale evidence: a sinusoid of 1–2 grey levels,
the 8x8 grid of a JPEG re-encoding. Whitening the input's ``k x k`` patches (as the
fastest CIFAR trainers do) gives every patch direction — every local frequency and
colour combination — unit variance, so no band drowns the others. The layer is a
convolution whose filters are the eigenvectors of the patch covariance, scaled by
``1 / sqrt(eigenvalue + eps)``; it is fitted once and not trained.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: This fraction of the mean eigenvalue is added to every eigenvalue before the square
#: root: directions with less variance than that (quantisation noise, a band a filter
#: removed) are not blown up without bound.
EPS = 1e-3
#: Patches sampled per image when fitting (the covariance needs thousands, not millions).
PATCHES_PER_IMAGE = 16


class PatchWhitening(nn.Module):
    """``k x k`` patches (stride ``stride``) of ``channels``-channel inputs → ``channels*k*k``
    whitened components, ordered by decreasing variance."""

    def __init__(self, channels: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.out_channels = channels * kernel * kernel
        self.register_buffer("weight", torch.zeros(self.out_channels, channels, kernel, kernel))
        self.register_buffer("bias", torch.zeros(self.out_channels))

    @torch.no_grad()
    def fit(self, batches, seed: int = 0) -> None:
        """Fit on float batches ``(N, C, H, W)``: covariance of sampled patches (float64)."""
        generator = torch.Generator().manual_seed(seed)
        total = torch.zeros(self.out_channels, dtype=torch.float64)
        outer = torch.zeros(self.out_channels, self.out_channels, dtype=torch.float64)
        count = 0
        for x in batches:
            sample = self._sample_patches(x, generator).double().cpu()
            total += sample.sum(0)
            outer += sample.T @ sample
            count += len(sample)
        mean = total / count
        covariance = outer / count - torch.outer(mean, mean)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending
        eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)
        floor = EPS * eigenvalues.clamp_min(0).mean().clamp_min(1e-12)
        filters = (eigenvectors / (eigenvalues.clamp_min(0) + floor).sqrt()).T  # (D, D): rows whiten
        self.weight.copy_(filters.reshape(self.weight.shape).to(self.weight.dtype))
        self.bias.copy_(-(filters @ mean).to(self.bias.dtype))  # whitened components have zero mean

    def _sample_patches(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """``PATCHES_PER_IMAGE`` patches of each image, at random positions of the conv grid,
        flattened in the order of the conv weight ``(C, k, k)``."""
        n, c, height, width = x.shape
        k, s = self.kernel, self.stride
        shape = (n, PATCHES_PER_IMAGE)
        top = torch.randint((height - k) // s + 1, shape, generator=generator).to(x.device) * s
        left = torch.randint((width - k) // s + 1, shape, generator=generator).to(x.device) * s
        offsets = torch.arange(k, device=x.device)
        rows = (top[..., None] + offsets)[..., None, :, None]  # (n, P, 1, k, 1)
        cols = (left[..., None] + offsets)[..., None, None, :]  # (n, P, 1, 1, k)
        images = torch.arange(n, device=x.device)[:, None, None, None, None]
        channels = torch.arange(c, device=x.device)[None, None, :, None, None]
        return x[images, channels, rows, cols].reshape(n * PATCHES_PER_IMAGE, c * k * k).float()

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)
