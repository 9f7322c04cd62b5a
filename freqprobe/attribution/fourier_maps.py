"""Where in the Fourier plane a classifier is sensitive: gradient maps and Yin et al.'s heat map.

- Fourier sensitivity: Captum's ``Saliency`` on the classifier written as a function of the
  real and imaginary parts of the image's full ``fft2`` (``x = Re(ifft2(X))``); the map is
  the magnitude ``|d score / d Re X + i d score / d Im X|``, mean over channels and images.
  It equals ``|fft2(d score / d x)| / (H W)``.
- Fourier heat map (Yin et al., 2019, "A Fourier perspective on model robustness"): the
  error rate when one Fourier basis image ``U`` (a cosine of unit L2 norm per channel,
  with a random sign per channel) times ``eps`` is added to every image; one value per
  frequency on the half plane, mirrored to its conjugate. Not clipped to [0, 1] here;
  ``fp.fourier_heatmap`` (any K-class model on labelled data) clips on request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from ..spectra.profiles import radial_bin_index


class SpectrumInput(nn.Module):
    """``model(Re(ifft2(real + i imag)))``: a classifier taking the full spectrum as two real tensors."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, real_part: Tensor, imag_part: Tensor) -> Tensor:
        return self.model(torch.fft.ifft2(torch.complex(real_part, imag_part)).real)


def fourier_sensitivity(
    model: nn.Module, batches: Iterator[tuple[Tensor, Tensor, Tensor]], height: int, width: int
) -> Tensor:
    """Mean gradient magnitude per Fourier coefficient, ``(2, H, W)`` float64 (real, fake), FFT order.

    ``batches`` yields ``(images, targets, labels)``; labels are 0 (real) or 1 (fake).
    """
    from captum.attr import Saliency
    saliency = Saliency(SpectrumInput(model))
    sums = torch.zeros(2, height, width, dtype=torch.float64)
    counts = torch.zeros(2, dtype=torch.float64)
    for images, targets, labels in batches:
        spectrum = torch.fft.fft2(images)
        parts = (spectrum.real.requires_grad_(), spectrum.imag.requires_grad_())
        grad_re, grad_im = saliency.attribute(parts, target=targets, abs=False)
        magnitude = torch.sqrt(grad_re.double() ** 2 + grad_im.double() ** 2).mean(dim=1).cpu()
        labels = labels.cpu()
        sums.index_add_(0, labels, magnitude)
        counts.index_add_(0, labels, torch.ones_like(labels, dtype=torch.float64))
    return sums / counts.clamp_min(1)[:, None, None]


def radial_profile(plane: Tensor) -> tuple[Tensor, Tensor]:
    """Ring means ``(f, values (..., R))`` of full-plane maps ``(..., H, W)``.

    Bins of width ``1 / min(H, W)`` centred on its multiples (as ``fp.spectrum``'s), DC left out.
    """
    height, width = plane.shape[-2:]
    bins = radial_bin_index(height, width).flatten()
    kept = bins >= 0
    n_bins = int(bins.max()) + 1
    flat = plane.reshape(-1, height * width)[:, kept].double()
    sums = torch.zeros(flat.shape[0], n_bins, dtype=torch.float64).index_add_(1, bins[kept], flat)
    counts = torch.bincount(bins[kept], minlength=n_bins).double()
    centres = torch.arange(n_bins, dtype=torch.float64) / min(height, width)
    return centres, (sums / counts).reshape(*plane.shape[:-2], n_bins)


def basis_images(height: int, width: int, rows: Tensor, cols: Tensor, device: torch.device) -> Tensor:
    """``(F, H, W)`` cosines of unit L2 norm at the frequencies ``(rows[f], cols[f])`` (FFT indices)."""
    y = torch.arange(height, device=device, dtype=torch.float64)[:, None]
    x = torch.arange(width, device=device, dtype=torch.float64)[None, :]
    fy = rows.to(device, torch.float64)[:, None, None] / height
    fx = cols.to(device, torch.float64)[:, None, None] / width
    wave = torch.cos(2 * torch.pi * (fy * y + fx * x))
    return (wave / wave.square().sum(dim=(1, 2), keepdim=True).sqrt()).float()


def half_plane(height: int, width: int) -> tuple[Tensor, Tensor]:
    """FFT row and column indices of the half plane ``0 <= col <= W // 2``, flattened."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width // 2 + 1), indexing="ij")
    return rows.flatten(), cols.flatten()


def mirrored(half: Tensor, height: int, width: int) -> Tensor:
    """Full-plane maps ``(..., H, W)`` from values ``(..., F)`` on ``half_plane``: each
    frequency's conjugate gets its value (one real basis image serves both)."""
    rows, cols = half_plane(height, width)
    full = torch.empty(*half.shape[:-1], height, width, dtype=half.dtype)
    full[..., rows, cols] = half
    full[..., (-rows) % height, (-cols) % width] = half
    return full


def top_k_misses(scores: Tensor, targets: Tensor, top_k: tuple[int, ...] = (1,)) -> Tensor:
    """``(len(top_k), N)`` bool: the target is not among the ``k`` best of ``(N, K)`` scores.

    Ties go to the lower index, as ``argmax`` breaks them (so ``k = 1`` is ``argmax != target``).
    """
    own = scores.gather(1, targets[:, None])
    index = torch.arange(scores.shape[1], device=scores.device)[None]
    rank = (scores > own).sum(dim=1) + ((scores == own) & (index < targets[:, None])).sum(dim=1)
    return torch.stack([rank >= k for k in top_k])


@torch.no_grad()
def basis_errors(
    scores: Callable[[Tensor], Tensor],
    images: Tensor,
    targets: Tensor,
    eps: float,
    max_batch: int,
    generator: torch.Generator,
    top_k: tuple[int, ...] = (1,),
    clamp: bool = False,
) -> Tensor:
    """Per Fourier basis direction and image: is the target outside the ``k`` best scores?

    Every image gets ``eps`` times the unit-norm cosine of each half-plane frequency, with
    a random sign per channel (Yin et al.); with ``clamp``, the sum is clipped to [0, 1] as
    the reference implementation does. Returns ``(len(top_k), F, N)`` bool on the CPU, ``F``
    over ``half_plane``. Frequencies are evaluated in chunks so that a forward pass holds
    at most ``max(max_batch, N)`` images.
    """
    n, channels, height, width = images.shape
    device = images.device
    targets = targets.to(device)
    rows, cols = half_plane(height, width)
    signs = (torch.randint(0, 2, (len(rows), n, channels, 1, 1), generator=generator) * 2 - 1).float()
    errors = torch.empty(len(top_k), len(rows), n, dtype=torch.bool)
    chunk = max(1, max_batch // n)
    for start in range(0, len(rows), chunk):
        part = slice(start, start + chunk)
        basis = basis_images(height, width, rows[part], cols[part], device)  # (F, H, W)
        perturbed = images[None] + eps * signs[part].to(device) * basis[:, None, None]  # (F, N, C, H, W)
        if clamp:
            perturbed = perturbed.clamp(0, 1)
        output = scores(perturbed.reshape(-1, channels, height, width))
        repeated = targets.repeat(len(basis))
        errors[:, part] = top_k_misses(output, repeated, top_k).reshape(len(top_k), -1, n).cpu()
    return errors


@torch.no_grad()
def fourier_heatmap(
    model: Callable[[Tensor], Tensor],
    images: Tensor,
    true_columns: Tensor,
    labels: Tensor,
    eps: float,
    max_batch: int,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """Error rates per frequency ``(2, H, W)`` (real, fake; FFT order, float64) and unperturbed ``(2,)``.

    ``images (N, 3, H, W)`` on the model's device, ``labels`` 0 (real) or 1 (fake); an image
    counts as an error when the arg-max of ``model``'s logits is not its ``true_columns``
    entry. A class without images gives NaN.
    """
    n, _, height, width = images.shape
    true_columns = true_columns.to(images.device)
    members = torch.stack([labels == k for k in (0, 1)]).double()  # (2, N)
    members = members / members.sum(dim=1, keepdim=True)  # 0/0: NaN for a class without images
    errors = basis_errors(model, images, true_columns, eps, max_batch, generator)[0].double()  # (F, N)
    full = mirrored(members @ errors.T, height, width)
    predicted = torch.cat([model(images[i : i + max_batch]).argmax(dim=1) for i in range(0, n, max_batch)])
    clean = members @ (predicted != true_columns).double().cpu()
    return full, clean
