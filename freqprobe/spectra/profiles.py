"""Radial and angular profiles: per-image means of power over rings and orientation sectors.

Radial bins are ``1 / min(H, W)`` cycles/pixel wide and centred on multiples of that width:
bin ``b`` holds the frequencies with ``round(radius / width) == b`` and is reported at
``f = b * width``. A profile value is the **mean** power over the bin's full-plane
frequencies (an azimuthal average, a density: white noise is flat at its variance), not
the sum, so bins of different sizes compare directly. DC is excluded. Bins past 0.5 cover
only the corners of the spectrum.

Angular sectors split the orientations ``[0, 180)`` degrees (``orientation`` in
``transforms.fourier``: 0 = variation along x) into ``sectors`` equal sectors centred on
``0, 180 / sectors, ...``, over the frequencies at radius ``>= min_radius``.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from ..transforms.fourier import orientation, radial_frequency
from .power import half_plane_multiplicity

ANGULAR_SECTORS = 12
ANGULAR_MIN_RADIUS = 0.1
#: Up to this many bins, bin means are one dense matrix product: ``index_add_`` into few
#: bins is a serial chain of additions to the same slots (6x slower for 12 sectors).
DENSE_BINS = 32


def radial_bin_index(height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
    """``(H, W)`` long: the radial bin of every full-plane frequency, ``-1`` at DC."""
    bin_width = 1.0 / min(height, width)
    index = torch.floor(radial_frequency(height, width, device) / bin_width + 0.5).long()
    index[0, 0] = -1
    return index


@dataclasses.dataclass(frozen=True)
class Binning:
    """A partition of the half-plane frequencies into bins, for per-image bin means.

    Attributes:
        index: ``(H * (W // 2 + 1),)`` long, the bin of each half-plane frequency
            (row-major); ``len(centers)`` marks frequencies left out (DC, or below the
            angular profile's radius).
        weights: same shape, float32: multiplicity / full-plane count of the bin, so that a
            weighted sum over a bin is its full-plane mean.
        centers: ``(B,)`` float64 bin centres (cycles/pixel, or degrees).
        counts: ``(B,)`` long: full-plane frequencies per bin.
        matrix: for at most ``DENSE_BINS`` bins, the weights as a dense
            ``(H * (W // 2 + 1), B)`` float32 matrix; else ``None``.
    """

    index: Tensor
    weights: Tensor
    centers: Tensor
    counts: Tensor
    matrix: Tensor | None

    @classmethod
    def from_labels(cls, labels: Tensor, centers: Tensor, multiplicity: Tensor) -> Binning:
        """Bins from half-plane ``labels`` (``-1`` = left out); empty bins are dropped."""
        labels, multiplicity = labels.flatten(), multiplicity.flatten()
        n_labels = len(centers)
        kept = labels >= 0
        counts = torch.zeros(n_labels, dtype=torch.float64, device=labels.device)
        counts.index_add_(0, labels[kept], multiplicity[kept].double())
        nonempty = counts > 0
        renumber = torch.full((n_labels + 1,), int(nonempty.sum()), dtype=torch.long, device=labels.device)
        renumber[:n_labels][nonempty] = torch.arange(int(nonempty.sum()), device=labels.device)
        index = renumber[torch.where(kept, labels, n_labels)]
        counts = counts[nonempty]
        padded_counts = torch.cat([counts, counts.new_ones(1)]).float()
        weights = torch.where(kept, multiplicity / padded_counts[index], 0.0)
        n_bins = int(nonempty.sum())
        matrix = None
        if n_bins <= DENSE_BINS:
            matrix = torch.zeros(len(index), n_bins + 1, device=labels.device)
            matrix[torch.arange(len(index), device=labels.device), index] = weights
            matrix = matrix[:, :-1].contiguous()
        return cls(index, weights, centers[nonempty], counts.long(), matrix)

    def means(self, half_power: Tensor) -> Tensor:
        """Per-image bin means ``(N, C, B)`` of half-plane power ``(N, C, H, W // 2 + 1)``."""
        n, c = half_power.shape[:2]
        flat = half_power.reshape(n * c, -1)
        if self.matrix is not None:
            return (flat @ self.matrix.to(flat.dtype)).reshape(n, c, -1)
        sums = torch.zeros(n * c, len(self.centers) + 1, dtype=flat.dtype, device=flat.device)
        sums.index_add_(1, self.index, flat * self.weights)
        return sums[:, :-1].reshape(n, c, -1)


def radial_binning(height: int, width: int, device: torch.device | str = "cpu") -> Binning:
    """Radial bins of width ``1 / min(H, W)`` over the half plane (DC left out)."""
    labels = radial_bin_index(height, width, device)[:, : width // 2 + 1]
    centers = torch.arange(int(labels.max()) + 1, dtype=torch.float64, device=device) / min(height, width)
    return Binning.from_labels(labels, centers, half_plane_multiplicity(height, width, device))


def angular_binning(
    height: int,
    width: int,
    sectors: int = ANGULAR_SECTORS,
    min_radius: float = ANGULAR_MIN_RADIUS,
    device: torch.device | str = "cpu",
) -> Binning:
    """Orientation sectors (degrees, centred on ``0, 180 / sectors, ...``) at radius ``>= min_radius``."""
    sector_width = 180.0 / sectors
    theta = orientation(height, width, device)[:, : width // 2 + 1]
    radius = radial_frequency(height, width, device)[:, : width // 2 + 1]
    labels = torch.floor((theta + sector_width / 2) / sector_width).long() % sectors
    labels = torch.where(radius >= min_radius, labels, -1)
    centers = torch.arange(sectors, dtype=torch.float64, device=device) * sector_width
    return Binning.from_labels(labels, centers, half_plane_multiplicity(height, width, device))
