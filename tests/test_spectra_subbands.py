"""Haar sub-band energies against PyWavelets; 8x8 DCT moments against the tile-by-tile DCT."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch

from freqprobe.spectra.subbands import dct_blocks, dct_moments, subband_energy


@pytest.mark.parametrize("shape", [(16, 16), (32, 24), (15, 9), (17, 22)])
def test_subband_energies_equal_pywavelets_haar(shape: tuple[int, int]) -> None:
    x = torch.rand(2, 1, *shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    coeffs = pywt.wavedec2(x.numpy(), "haar", mode="symmetric", level=2)
    bands = [coeffs[0]] + [band for level in coeffs[1:] for band in level]  # LL, then LH HL HH coarse to fine
    expected = np.stack([np.mean(band**2, axis=(-2, -1)) for band in bands], axis=-1)
    assert np.allclose(subband_energy(x, 2).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(16, 16), (24, 40), (19, 13)])
def test_dct_moments_are_the_moments_of_every_tile(shape: tuple[int, int]) -> None:
    x = torch.rand(3, 1, *shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    tiles = dct_blocks(x)
    total, squares, count = dct_moments(x)
    assert count == tiles.shape[0]
    assert torch.allclose(total, tiles.sum(0), atol=1e-10)
    assert torch.allclose(squares, tiles.square().sum(0), atol=1e-10)
