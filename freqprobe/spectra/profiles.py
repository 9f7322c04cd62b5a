"""Radial and angular profiles: per-image means of power over rings and orientation sectors.

Radial bins are ``1 / min(H, W)`` cycles/pixel wide and centred on multiples of that width:
bin ``b`` holds the frequencies with ``round(radius / width) == b`` and is reported at
``f = b * width``. A profile value is the **mean** power over the bin's full-plane
frequencies (an azimuthal average, a density: white noise is flat at its variance), not
the sum, so bins of different sizes compare directly. DC is excluded. Bins past 0.5 cover
only the corners of the spectrum.

Angular sectors split the orientations ``[0, 180)`` degrees (``orientation`` in
``transforms.fourier``: 0 = variation along x) into ``sectors`` equal sectors centred on
``0, 180 / sectors, ...``, over the frequencies at radius ``>= min_radius``, as they lie on
the full FFT grid. On the Nyquist row of an even height, a frequency ``(-1/2, fx)`` and its
conjugate, ``(-1/2, -fx)`` on the grid, have mirrored orientations (the pattern has both),
so each counts once in its own sector (the half-plane bookkeeping used to put both in the
first one's).

``Profiles`` computes both per image in one scatter-add: every half-plane frequency
belongs to one cell (ring; sector, or a slot for radii below ``min_radius``; multiplicity 1
or 2), a batch's power is summed into those few thousand cells with ``index_add_`` (all
images and channels at once; a second, small one adds the Nyquist row's mirrored entries),
and the ring and sector means are weighted sums over the small cell array. Bins, weights
and cells are built once per size and device (``lru_cache``).
"""

from __future__ import annotations

import dataclasses
import functools

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
    """A partition of the full-plane frequencies into bins, for per-image bin means of half-plane power.

    Each *entry* puts one half-plane frequency, with a multiplicity, into a bin; an entry
    per half-plane frequency, plus (angular profiles only) a second entry for the Nyquist
    row's frequencies, whose two full-plane representatives lie in mirrored sectors.

    Attributes:
        index: ``(E,)`` long, the bin of each entry; ``len(centers)`` marks entries left
            out (DC, or below the angular profile's radius).
        weights: ``(E,)`` float32: multiplicity / full-plane count of the bin, so that a
            weighted sum over a bin is its full-plane mean.
        centers: ``(B,)`` float64 bin centres (cycles/pixel, or degrees).
        counts: ``(B,)`` long: full-plane frequencies per bin.
        matrix: for at most ``DENSE_BINS`` bins, the weights as a dense
            ``(H * (W // 2 + 1), B)`` float32 matrix; else ``None``.
        positions: ``(E,)`` long, the half-plane frequency (row-major) of each entry, or
            ``None`` when the entries are the half-plane frequencies in order.
    """

    index: Tensor
    weights: Tensor
    centers: Tensor
    counts: Tensor
    matrix: Tensor | None
    positions: Tensor | None = None

    @classmethod
    def from_labels(
        cls, labels: Tensor, centers: Tensor, multiplicity: Tensor, positions: Tensor | None = None
    ) -> Binning:
        """Bins from entry ``labels`` (``-1`` = left out); empty bins are dropped.

        Without ``positions`` the entries are the half-plane frequencies in row-major order.
        """
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
            rows = torch.arange(len(index), device=labels.device) if positions is None else positions
            n_rows = len(index) if positions is None else int(positions.max()) + 1
            matrix = torch.zeros(n_rows, n_bins + 1, device=labels.device)
            matrix.index_put_((rows, index), weights, accumulate=True)
            matrix = matrix[:, :-1].contiguous()
        return cls(index, weights, centers[nonempty], counts.long(), matrix, positions)

    def means(self, half_power: Tensor) -> Tensor:
        """Per-image bin means ``(N, C, B)`` of half-plane power ``(N, C, H, W // 2 + 1)``."""
        n, c = half_power.shape[:2]
        flat = half_power.reshape(n * c, -1)
        if self.matrix is not None:
            return (flat @ self.matrix.to(flat.dtype)).reshape(n, c, -1)
        entries = flat if self.positions is None else flat[:, self.positions]
        sums = torch.zeros(n * c, len(self.centers) + 1, dtype=flat.dtype, device=flat.device)
        sums.index_add_(1, self.index, entries * self.weights)
        return sums[:, :-1].reshape(n, c, -1)


@functools.lru_cache(maxsize=32)
def radial_binning(height: int, width: int, device: torch.device | str = "cpu") -> Binning:
    """Radial bins of width ``1 / min(H, W)`` over the half plane (DC left out)."""
    labels = radial_bin_index(height, width, device)[:, : width // 2 + 1]
    centers = torch.arange(int(labels.max()) + 1, dtype=torch.float64, device=device) / min(height, width)
    return Binning.from_labels(labels, centers, half_plane_multiplicity(height, width, device))


def _sectors(theta: Tensor, sectors: int) -> Tensor:
    sector_width = 180.0 / sectors
    return torch.floor((theta + sector_width / 2) / sector_width).long() % sectors


def _angular_entries(
    height: int, width: int, sectors: int, min_radius: float, device: torch.device | str
) -> tuple[Tensor, Tensor, Tensor]:
    """Entries of the angular bins: ``(positions, sector or -1, multiplicity)``, each ``(E,)``.

    One entry per half-plane frequency, then, for even ``H``, one more for each Nyquist-row
    frequency ``(-1/2, fx)`` with ``0 < fx < 1/2``: its conjugate is ``(-1/2, -fx)`` on the
    FFT grid, whose orientation is mirrored (``180 - theta``; at the Nyquist frequency the
    pattern has both), so each of the two gets multiplicity 1 in its own sector, as on the
    full plane.
    """
    half = width // 2 + 1
    theta = orientation(height, width, device)
    radius = radial_frequency(height, width, device)[:, :half]
    labels = torch.where(radius >= min_radius, _sectors(theta[:, :half], sectors), -1)
    multiplicity = half_plane_multiplicity(height, width, device).clone()
    positions = torch.arange(height * half, device=device)
    if height % 2:
        return positions, labels.flatten(), multiplicity.flatten()
    row = height // 2
    columns = torch.arange(1, (width + 1) // 2, device=device)  # multiplicity 2 on this row
    multiplicity[row, columns] = 1.0
    mirrored = _sectors(theta[row, width - columns], sectors)
    extra_labels = torch.where(radius[row, columns] >= min_radius, mirrored, -1)
    return (
        torch.cat([positions, row * half + columns]),
        torch.cat([labels.flatten(), extra_labels]),
        torch.cat([multiplicity.flatten(), torch.ones(len(columns), device=device)]),
    )


@functools.lru_cache(maxsize=32)
def angular_binning(
    height: int,
    width: int,
    sectors: int = ANGULAR_SECTORS,
    min_radius: float = ANGULAR_MIN_RADIUS,
    device: torch.device | str = "cpu",
) -> Binning:
    """Orientation sectors (degrees, centred on ``0, 180 / sectors, ...``) at radius ``>= min_radius``."""
    positions, labels, multiplicity = _angular_entries(height, width, sectors, min_radius, device)
    centers = torch.arange(sectors, dtype=torch.float64, device=device) * (180.0 / sectors)
    return Binning.from_labels(labels, centers, multiplicity, positions)


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Radial and angular bin means of a batch from one scatter-add (see the module docstring).

    Attributes:
        radial, angular: the two ``Binning``s (centres, counts; the reference ``means``).
        cells: ``(H * (W // 2 + 1),)`` long, the cell of each half-plane frequency;
            ``n_cells - 1`` at DC (a slot that is dropped).
        extra_positions, extra_cells: the Nyquist row's second entries (``_angular_entries``):
            half-plane positions and their cells.
        shape: cells as ``(rings, sectors + 1, 2)``: sector ``sectors`` holds the
            frequencies below ``min_radius``, the last axis is the multiplicity (1 or 2).
        ring_of_bin: ``(radial bins,)`` long, the ring of each (non-empty) radial bin.
        sector_of_bin: ``(angular bins,)`` long, the sector of each (non-empty) angular bin.
    """

    radial: Binning
    angular: Binning
    cells: Tensor
    extra_positions: Tensor
    extra_cells: Tensor
    shape: tuple[int, int, int]
    ring_of_bin: Tensor
    sector_of_bin: Tensor

    @property
    def n_cells(self) -> int:
        """Length of the cell array per image and channel (with the dropped DC slot)."""
        rings, sectors, _ = self.shape
        return rings * sectors * 2 + 1

    def means(self, power: Tensor, scratch: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Per-image ring and sector means of ``(N, C, H, K)`` power: ``(N, C, radial bins)``, ``(N, C, sectors)``.

        ``scratch``: optional buffer of at least ``N * C * n_cells`` elements, ``power``'s dtype.
        """
        n, c = power.shape[:2]
        flat = power.reshape(n * c, -1)
        rings, sectors, _ = self.shape
        if scratch is None:
            sums = torch.zeros(n * c, self.n_cells, dtype=flat.dtype, device=flat.device)
        else:
            sums = scratch.view(-1)[: n * c * self.n_cells].view(n * c, self.n_cells).zero_()
        sums.index_add_(1, self.cells, flat)
        if len(self.extra_cells):
            sums.index_add_(1, self.extra_cells, flat[:, self.extra_positions])
        cells = sums[:, :-1].view(n * c, rings, sectors, 2)
        weighted = cells[..., 0].add(cells[..., 1], alpha=2.0)  # full-plane sums, (n c, rings, sectors + 1)
        radial = weighted.sum(-1)[:, self.ring_of_bin].div_(self.radial.counts.to(flat.dtype))
        angular = weighted[:, :, :-1].sum(1)[:, self.sector_of_bin].div_(self.angular.counts.to(flat.dtype))
        return radial.view(n, c, -1), angular.view(n, c, -1)


@functools.lru_cache(maxsize=32)
def profiles(
    height: int,
    width: int,
    sectors: int = ANGULAR_SECTORS,
    min_radius: float = ANGULAR_MIN_RADIUS,
    device: torch.device | str = "cpu",
) -> Profiles:
    """The cached ``Profiles`` for this size and device (treat its tensors as read-only)."""
    radial = radial_binning(height, width, device)
    angular = angular_binning(height, width, sectors, min_radius, device)
    rings = radial_bin_index(height, width, device)[:, : width // 2 + 1].flatten()
    positions, labels, multiplicity = _angular_entries(height, width, sectors, min_radius, device)
    n_rings = int(rings.max()) + 1
    ring = rings[positions]
    cells = (ring * (sectors + 1) + torch.where(labels >= 0, labels, sectors)) * 2 + (multiplicity > 1).long()
    n_cells = n_rings * (sectors + 1) * 2
    cells = torch.where(ring >= 0, cells, n_cells)
    n_half = len(rings)
    ring_of_bin = torch.round(radial.centers * min(height, width)).long()
    sector_of_bin = torch.round(angular.centers / (180.0 / sectors)).long()
    return Profiles(
        radial, angular, cells[:n_half], positions[n_half:], cells[n_half:], (n_rings, sectors + 1, 2),
        ring_of_bin, sector_of_bin,
    )  # fmt: skip
