from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch

import freqprobe as fp
from freqprobe.errors import SpecError
from freqprobe.transforms.dct import block_dct, block_idct


def images(n: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).random((n, 3, height, width))).float()


def reference(x: np.ndarray, block: int, cut: int, keep: str) -> np.ndarray:
    """Per-tile loop: scipy dctn -> zero the other band -> idctn."""
    u, v = np.meshgrid(np.arange(block), np.arange(block), indexing="ij")
    kept = (u + v < cut) if keep == "LOW" else (u + v >= cut)
    out = np.empty_like(x, dtype=np.float64)
    for i in range(0, x.shape[-2], block):
        for j in range(0, x.shape[-1], block):
            tile = x[..., i : i + block, j : j + block].astype(np.float64)
            coeffs = scipy.fft.dctn(tile, axes=(-2, -1), norm="ortho") * kept
            out[..., i : i + block, j : j + block] = scipy.fft.idctn(coeffs, axes=(-2, -1), norm="ortho")
    return out


@pytest.mark.parametrize(("block", "size"), [(8, (32, 32)), (8, (24, 40)), (4, (12, 20)), (3, (9, 15))])
def test_block_coefficients_match_scipy_dctn(block: int, size: tuple[int, int]) -> None:
    x = images(2, *size)
    coeffs = block_dct(x, block).numpy()
    for i in range(0, size[0], block):
        for j in range(0, size[1], block):
            tile = x[..., i : i + block, j : j + block].double().numpy()
            expected = scipy.fft.dctn(tile, axes=(-2, -1), norm="ortho")
            np.testing.assert_allclose(coeffs[..., i : i + block, j : j + block], expected, atol=1e-5)


def test_block_idct_inverts_block_dct() -> None:
    x = images(2, 24, 40)
    torch.testing.assert_close(block_idct(block_dct(x, 8), 8), x, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        ("dct:keep=LOW", (32, 32)),
        ("dct:keep=HIGH", (24, 40)),
        ("dct:keep=LOW,cut=1", (24, 40)),
        ("dct:keep=HIGH,cut=14", (16, 16)),
        ("dct:block=4,keep=HIGH,cut=3", (12, 20)),
        ("dct:block=3,keep=LOW", (9, 15)),
        ("dct:block=16,keep=LOW,cut=5", (32, 48)),
    ],
)
def test_output_matches_per_block_scipy_reference(spec: str, size: tuple[int, int]) -> None:
    t = fp.transform(spec, size=size)
    x = images(3, *size)
    out = t(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_allclose(out.numpy(), reference(x.numpy(), t.block, t.band_cut, t.keep), atol=1e-5)


def test_keep_low_with_cut_one_is_the_block_mean() -> None:
    x = images(2, 16, 24)
    out = fp.transform("dct:keep=LOW,cut=1")(x)
    means = x.reshape(2, 3, 2, 8, 3, 8).mean(dim=(3, 5))
    torch.testing.assert_close(out, means.repeat_interleave(8, -2).repeat_interleave(8, -1), atol=1e-6, rtol=0)


@pytest.mark.parametrize("spec", ["block=8", "block=8,cut=1", "block=4,cut=5", "block=16,cut=11"])
def test_low_plus_high_is_the_input_and_energies_add(spec: str) -> None:
    x = images(2, 32, 48)
    low = fp.transform(f"dct:{spec},keep=LOW")(x)
    high = fp.transform(f"dct:{spec},keep=HIGH")(x)
    torch.testing.assert_close(low + high, x, atol=1e-5, rtol=0)
    energy = (x.double() ** 2).sum()
    torch.testing.assert_close((low.double() ** 2).sum() + (high.double() ** 2).sum(), energy, atol=0, rtol=1e-5)
    assert (low.double() * high.double()).sum().abs() < 1e-4 * energy


def test_runs_in_float32_for_half_precision_input() -> None:
    x = images(1, 16, 16).half()
    out = fp.transform("dct:keep=HIGH")(x)
    assert out.dtype == torch.float16
    np.testing.assert_allclose(out.float().numpy(), reference(x.float().numpy(), 8, 4, "high"), atol=2e-3)


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("dct:keep=LOW", "dct:keep=LOW"),
        ("dct:block=16,keep=HIGH,cut=5", "dct:block=16,keep=HIGH,cut=5"),
        ("dct:block=8,keep=HIGH,cut=4", "dct:keep=HIGH"),
        ("dct:block=4,keep=LOW,cut=2", "dct:block=4,keep=LOW"),
        ("dct:keep=LOW,cut=3", "dct:keep=LOW,cut=3"),
    ],
)
def test_spec_round_trips_to_canonical_form(spec: str, canonical: str) -> None:
    t = fp.transform(spec)
    assert str(t) == canonical
    assert fp.transform(canonical) == t


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("dct", "missing argument; usage: dct:block=8,keep=...,cut=..."),
        ("dct:keep=mid", "keep='MID'; choose one of LOW, HIGH"),
        ("dct:block=1,keep=LOW", "block=1 must be >= 2"),
        ("dct:keep=LOW,cut=0", "cut=0 is outside [1, 14] for block=8"),
        ("dct:keep=HIGH,cut=15", "cut=15 is outside [1, 14] for block=8"),
        ("dct:block=4,keep=HIGH,cut=7", "cut=7 is outside [1, 6] for block=4"),
    ],
)
def test_bad_specs_raise_spec_error(spec: str, fragment: str) -> None:
    with pytest.raises(SpecError) as err:
        fp.transform(spec)
    assert str(err.value).startswith(spec) and fragment in str(err.value)


@pytest.mark.parametrize("size", [(30, 32), (32, 36), (7, 7)])
def test_block_must_divide_the_image_size(size: tuple[int, int]) -> None:
    with pytest.raises(SpecError, match=rf"^dct:keep=LOW: dct: block=8 must divide the image size, got {size[0]}x{size[1]}$"):
        fp.transform("dct:keep=LOW", size=size)
    with pytest.raises(SpecError, match="must divide"):
        fp.transform("dct:keep=LOW")(images(1, *size))


def test_band_names_are_case_insensitive_and_canonically_upper_case() -> None:
    assert str(fp.transform("dct:keep=low")) == "dct:keep=LOW"
    assert fp.transform("dct:keep=High") == fp.transform("dct:keep=HIGH")
