"""Spectral band layouts: rings and sectors that tile the spectrum, checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqprobe.attribution import BandLayout
from freqprobe.errors import FreqprobeError
from freqprobe.transforms.fourier import hermitian_symmetrize


@pytest.mark.parametrize("size", [(32, 32), (24, 40), (31, 33)])
@pytest.mark.parametrize("sectors", [1, 3, 4])
def test_bands_tile_the_spectrum_with_hermitian_masks(size: tuple[int, int], sectors: int) -> None:
    masks = BandLayout.build(6, sectors).masks(*size)
    assert torch.equal(masks.sum(dim=0), torch.ones(size, dtype=torch.float64))
    assert torch.equal(masks, hermitian_symmetrize(masks))


def test_rings_match_a_numpy_reference() -> None:
    height, width, edges = 28, 36, [0.0, 0.1, 0.25, 0.4, 0.5, 0.7072]
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    expected = np.digitize(radius, edges) - 1
    labels = BandLayout.build(edges).labels(height, width).numpy()
    np.testing.assert_array_equal(labels, expected)


def test_dc_is_in_the_first_band_and_the_corner_in_the_last() -> None:
    labels = BandLayout.build(8).labels(32, 32)
    assert labels[0, 0] == 0 and labels[16, 16] == 7  # (fy, fx) = (-0.5, -0.5): radius 0.7071
    assert (labels >= 0).all()


def test_frequencies_outside_given_rings_belong_to_no_band() -> None:
    layout = BandLayout.build([0.2, 0.3])
    labels = layout.labels(32, 32)
    radius = torch.from_numpy(np.hypot(np.fft.fftfreq(32)[:, None], np.fft.fftfreq(32)[None, :]))
    assert torch.equal(labels == 0, (radius >= 0.2) & (radius <= 0.3))
    assert layout.half_masks(32, 32).sum(dim=0).max() == 1 and layout.half_masks(32, 32)[0, 0, 0] == 0


def test_sectors_separate_vertical_and_horizontal_stripes() -> None:
    labels = BandLayout.build(1, sectors=2).labels(16, 16)
    assert labels[0, 3] == 0  # (fy, fx) = (0, 3/16): variation along x, 0 degrees
    assert labels[3, 0] == 1  # (3/16, 0): 90 degrees


def test_table_counts_every_frequency_once() -> None:
    table = BandLayout.build(5, sectors=4).table(20, 30)
    assert table["n_frequencies"].sum() == pytest.approx(600)
    assert table[["f_lo", "f_hi"]].iloc[-1].tolist() == pytest.approx([0.7071067811865476 * 4 / 5, 0.7071067811865476])
    # past radius 0.5 only the corners' sectors reach: the last ring has no 0 or 90 degree band
    assert list(table["band"]) == list(range(18)) and (table["n_frequencies"] > 0).all()
    assert table[["angle_lo", "angle_hi"]].iloc[-2:].values.tolist() == [[22.5, 67.5], [112.5, 157.5]]


@pytest.mark.parametrize(("bands", "sectors", "size"), [(8, 4, 32), (8, 3, 64), (16, 4, 64), (12, 5, 48)])
def test_sector_bands_past_nyquist_are_left_out_not_refused(bands: int, sectors: int, size: int) -> None:
    layout = BandLayout.build(bands, sectors)
    layout.check_size(size, size)
    labels = layout.labels(size, size)
    assert torch.equal(torch.unique(labels), torch.arange(len(layout.cells(size, size))))
    # a NumPy reference: a (ring, sector) cell is a band exactly when some grid frequency lies in it
    fy, fx = np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :]
    ring = np.minimum(np.digitize(np.hypot(fy, fx), layout.edges) - 1, bands - 1)
    width = 180 / sectors
    sector = np.floor((np.degrees(np.arctan2(fy, fx)) % 180 + width / 2) / width).astype(int) % sectors
    assert layout.cells(size, size) == sorted({(int(r), int(s)) for r, s in zip(ring.ravel(), sector.ravel())})


@pytest.mark.parametrize(
    ("bands", "sectors", "reason"),
    [
        ([0.1, 0.8], 1, "edge 0.8 is outside the spectrum [0, 0.7072]"),
        ([-0.1, 0.2], 1, "edge -0.1 is outside"),
        ([0.3, 0.2], 1, "edges must increase strictly"),
        ([0.3], 1, "a ring needs two"),
        (0, 1, "bands=0 must be >= 1"),
        (4, 0, "sectors=0 must be a whole number >= 1"),
        ("many", 1, "give a number of rings or a list of edges"),
    ],
)
def test_bad_bands_are_one_line_errors(bands, sectors: int, reason: str) -> None:
    with pytest.raises(FreqprobeError, match=reason.replace("[", r"\[").replace("]", r"\]")) as err:
        BandLayout.build(bands, sectors)
    assert "\n" not in str(err.value)


def test_a_ring_without_frequencies_is_refused_at_the_image_size() -> None:
    with pytest.raises(FreqprobeError, match="ring 1 .* holds no frequency of a 16x16 image; use fewer bands"):
        BandLayout.build([0.0, 0.001, 0.002, 0.7]).check_size(16, 16)


def test_sectors_too_fine_for_the_grid_near_dc_are_named() -> None:
    layout = BandLayout.build(16, sectors=4)  # the first ring, [0, 0.044), holds (0, 1/32) and (1/32, 0) on 32 x 32
    layout.check_size(32, 32)
    assert layout.empty_cells(32, 32) == [(0.0, layout.edges[1], 22.5, 67.5), (0.0, layout.edges[1], 112.5, 157.5)]
    assert BandLayout.build(8, sectors=4).empty_cells(32, 32) == []  # the outer corners are no loss
