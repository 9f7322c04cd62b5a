"""Spectral bands: radial rings (equal widths or given edges), optionally cut into orientation sectors.

Frequencies in cycles/pixel on the ``torch.fft.fftfreq`` grid; radius ``sqrt(fy**2 + fx**2)``.
Ring ``r`` holds the radii in ``[edges[r], edges[r + 1])``, the last ring also its upper
edge. Equal rings span ``[0, sqrt(0.5)]``: the last ones reach into the spectrum's corners
(radii past 0.5 exist only there). DC belongs to the first ring when the edges start at 0;
frequencies outside every ring are not attributed (their gain stays 1).

``sectors=S`` cuts every ring into S orientation sectors of ``180 / S`` degrees centred on
``0, 180 / S, ...`` (0 degrees = variation along x, i.e. vertical stripes; DC counts as 0).
Bands are the (ring, sector) cells that hold at least one frequency of the image's grid,
numbered ring-major. Past radius 0.5 only the sectors towards the corners reach (with 8
equal rings and 4 sectors, the outermost ring has no 0 or 90 degree band); near DC a fine
grid of sectors can leave cells empty on a small image (``attribute`` warns).

A band's mask is made Hermitian (``M(k) = M(-k)``): on the Nyquist row and column a
frequency and its conjugate can fall in two sectors, and each then gets half of it. So the
masks of all bands sum to exactly 1 wherever the rings reach, and a band-weighted image is real.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import pandas as pd
import torch
from torch import Tensor

from ..errors import FreqprobeError
from ..transforms.fourier import half_spectrum, hermitian_symmetrize, orientation, radial_frequency

#: The spectrum's corner radius, where equal rings end.
CORNER = math.sqrt(0.5)
#: Largest edge accepted (the corner, rounded up).
MAX_EDGE = 0.7072
_EDGE_TOLERANCE = 1e-9  # the corner's computed radius may differ from sqrt(0.5) in the last bit


@dataclasses.dataclass(frozen=True)
class BandLayout:
    """Ring edges (cycles/pixel) and the number of orientation sectors per ring."""

    edges: tuple[float, ...]
    sectors: int = 1

    @classmethod
    def build(cls, bands: int | Sequence[float], sectors: int = 1) -> BandLayout:
        """``bands`` equal rings over ``[0, sqrt(0.5)]``, or the ring edges themselves.

        Raises:
            FreqprobeError: fewer than one ring, edges not increasing or outside
                ``[0, 0.7072]``, fewer than one sector.
        """
        if isinstance(sectors, bool) or not isinstance(sectors, int) or sectors < 1:
            raise FreqprobeError(f"sectors={sectors!r} must be a whole number >= 1")
        if isinstance(bands, bool):
            raise FreqprobeError(f"bands={bands!r}: give a number of rings or their edges")
        if isinstance(bands, int):
            if bands < 1:
                raise FreqprobeError(f"bands={bands} must be >= 1")
            return cls(tuple(CORNER * i / bands for i in range(bands + 1)), sectors)
        try:
            edges = tuple(float(edge) for edge in bands)
        except (TypeError, ValueError):
            raise FreqprobeError(f"bands={bands!r}: give a number of rings or a list of edges") from None
        if len(edges) < 2:
            raise FreqprobeError(f"bands: {len(edges)} edge given; a ring needs two (f_lo, f_hi)")
        outside = [edge for edge in edges if not 0.0 <= edge <= MAX_EDGE]
        if outside:
            raise FreqprobeError(
                f"bands: edge {outside[0]:g} is outside the spectrum [0, {MAX_EDGE}] cycles/pixel "
                f"(Nyquist on an axis is 0.5, the corners {CORNER:.4f})"
            )
        if any(lo >= hi for lo, hi in zip(edges, edges[1:])):
            raise FreqprobeError(f"bands: edges must increase strictly, got {', '.join(f'{e:g}' for e in edges)}")
        return cls(edges, sectors)

    @property
    def n_rings(self) -> int:
        return len(self.edges) - 1

    def cells(self, height: int, width: int) -> list[tuple[int, int]]:
        """``(ring, sector)`` of every band at this image size, in band order: the cells that
        hold at least one frequency of the grid."""
        labels = self._cell_labels(height, width)
        return [divmod(int(cell), self.sectors) for cell in torch.unique(labels[labels >= 0])]

    def labels(self, height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
        """``(H, W)`` long: the band of every full-plane frequency, ``-1`` outside every ring."""
        cells = self._cell_labels(height, width, device)
        present = torch.unique(cells[cells >= 0])
        band_of_cell = torch.full((self.n_rings * self.sectors,), -1, dtype=torch.long, device=device)
        band_of_cell[present] = torch.arange(len(present), device=device)
        return torch.where(cells >= 0, band_of_cell[cells.clamp(min=0)], -1)

    def _cell_labels(self, height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
        """``(H, W)`` long: ``ring * sectors + sector`` of every frequency, ``-1`` outside every ring."""
        radius = radial_frequency(height, width, device)
        edges = torch.tensor(self.edges, dtype=torch.float64, device=device)
        ring = torch.bucketize(radius, edges, right=True) - 1
        on_last_edge = (radius - edges[-1]).abs() <= _EDGE_TOLERANCE
        ring = torch.where(on_last_edge, self.n_rings - 1, ring)
        inside = (ring >= 0) & (ring < self.n_rings)
        width_deg = 180.0 / self.sectors
        sector = torch.floor((orientation(height, width, device) + width_deg / 2) / width_deg).long() % self.sectors
        return torch.where(inside, ring * self.sectors + sector, -1)

    def masks(self, height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
        """``(B, H, W)`` float64 Hermitian masks of the bands on the full plane."""
        labels = self.labels(height, width, device)
        bands = torch.arange(int(labels.max()) + 1, device=device)[:, None, None]
        return hermitian_symmetrize((labels[None] == bands).to(torch.float64))

    def half_masks(self, height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
        """``(B, H, W // 2 + 1)`` float32: the masks on the ``rfft2`` half plane."""
        return half_spectrum(self.masks(height, width, device)).float().contiguous()

    def table(self, height: int, width: int) -> pd.DataFrame:
        """One row per band: ``band, f_lo, f_hi, angle_lo, angle_hi, n_frequencies`` (full plane)."""
        counts = self.masks(height, width).sum(dim=(1, 2)).tolist()
        width_deg = 180.0 / self.sectors
        rows = []
        for band, ((ring, sector), count) in enumerate(zip(self.cells(height, width), counts)):
            centre = sector * width_deg
            rows.append(
                {
                    "band": band,
                    "f_lo": self.edges[ring],
                    "f_hi": self.edges[ring + 1],
                    "angle_lo": (centre - width_deg / 2) % 180 if self.sectors > 1 else 0.0,
                    "angle_hi": (centre + width_deg / 2) % 180 if self.sectors > 1 else 180.0,
                    "n_frequencies": count,
                }
            )
        return pd.DataFrame(rows)

    def check_size(self, height: int, width: int) -> None:
        """Raise a one-line error if a ring holds no frequency at this image size."""
        rings = {ring for ring, _ in self.cells(height, width)}
        empty = [ring for ring in range(self.n_rings) if ring not in rings]
        if empty:
            lo, hi = self.edges[empty[0]], self.edges[empty[0] + 1]
            raise FreqprobeError(
                f"bands: ring {empty[0]} ([{lo:.4g}, {hi:.4g}) cycles/pixel) holds no frequency of a {height}x{width} "
                f"image; use fewer bands (rings at least 1/{min(height, width)} wide)"
            )

    def empty_cells(self, height: int, width: int) -> list[tuple[float, float, float, float]]:
        """``(f_lo, f_hi, angle_lo, angle_hi)`` of the (ring, sector) cells inside radius 0.5
        that hold no frequency at this size (the grid is too coarse there for the sectors)."""
        present, half = set(self.cells(height, width)), 90.0 / self.sectors
        return [
            (self.edges[ring], self.edges[ring + 1], (2 * half * sector - half) % 180, (2 * half * sector + half) % 180)
            for ring in range(self.n_rings)
            for sector in range(self.sectors)
            if (ring, sector) not in present and self.edges[ring] < 0.5
        ]
