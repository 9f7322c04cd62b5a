from __future__ import annotations

import numpy as np
import ptwt
import pytest
import pywt
import torch

import freqprobe as fp
from freqprobe.errors import SpecError

# Our names for pywt's (cA, (cH, cV, cD)) at one level.
PYWT_INDEX = {"LH": 0, "HL": 1, "HH": 2}


def pywt_reference(images: np.ndarray, wavelet: str, level: int, mode: str, keep: str | None, drop: str | None) -> np.ndarray:
    """pywt's inverse DWT of pywt's coefficients with the sub-bands zeroed as the spec says."""
    coeffs = pywt.wavedec2(images.astype(np.float64), wavelet, mode=mode, level=level)
    approx, deepest, finer = coeffs[0], list(coeffs[1]), [list(d) for d in coeffs[2:]]
    if keep is not None:
        approx = approx if keep == "LL" else np.zeros_like(approx)
        deepest = [c if PYWT_INDEX.get(keep) == i else np.zeros_like(c) for i, c in enumerate(deepest)]
        finer = [[np.zeros_like(c) for c in d] for d in finer]
    elif drop == "LL":
        approx = np.zeros_like(approx)
    else:
        deepest[PYWT_INDEX[drop]] = np.zeros_like(deepest[PYWT_INDEX[drop]])
    rec = pywt.waverec2([approx, tuple(deepest), *map(tuple, finer)], wavelet)
    return rec[..., : images.shape[-2], : images.shape[-1]]


def images(n: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).random((n, 3, height, width))).float()


@pytest.mark.parametrize("wavelet", ["haar", "db2", "sym4", "bior2.2"])
@pytest.mark.parametrize("mode", ["symmetric", "reflect", "zero", "periodic", "constant"])
@pytest.mark.parametrize("size", [(32, 32), (24, 40), (27, 21)])
def test_ptwt_coefficients_match_pywt(wavelet: str, mode: str, size: tuple[int, int]) -> None:
    x = images(2, *size).double()
    level = pywt.dwt_max_level(min(size), wavelet)
    ours = ptwt.wavedec2(x, wavelet, mode=mode, level=level)
    ref = pywt.wavedec2(x.numpy(), wavelet, mode=mode, level=level)
    assert len(ours) == len(ref) == level + 1
    np.testing.assert_allclose(ours[0].numpy(), ref[0], atol=1e-10)
    for got_level, ref_level in zip(ours[1:], ref[1:]):
        for got, expected in zip(got_level, ref_level):
            np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


def test_detail_names_follow_pywt_dwtn_keys() -> None:
    x = images(1, 16, 16).double().numpy()[0, 0]
    cA, (cH, cV, cD) = pywt.dwt2(x, "db2", mode="symmetric")
    keys = pywt.dwtn(x, "db2", mode="symmetric")
    np.testing.assert_array_equal(cH, keys["da"])  # LH: detail along height
    np.testing.assert_array_equal(cV, keys["ad"])  # HL: detail along width
    np.testing.assert_array_equal(cD, keys["dd"])  # HH


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        ("wavelet:haar,keep=LL", (32, 32)),
        ("wavelet:haar,level=3,keep=HL", (24, 40)),
        ("wavelet:db2,level=2,keep=HH", (32, 32)),
        ("wavelet:db2,level=2,keep=LH", (27, 21)),
        ("wavelet:sym4,keep=LH,mode=periodic", (24, 40)),
        ("wavelet:bior2.2,level=2,drop=LL,mode=zero", (32, 32)),
        ("wavelet:db2,drop=HL,mode=reflect", (27, 21)),
        ("wavelet:sym4,level=2,drop=HH,mode=constant", (32, 32)),
    ],
)
def test_output_matches_pywt_reconstruction_with_band_zeroed(spec: str, size: tuple[int, int]) -> None:
    t = fp.transform(spec, size=size)
    x = images(3, *size)
    expected = pywt_reference(x.numpy(), t.wavelet, t.level, t.mode, t.keep, t.drop)
    out = t(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("wavelet", ["haar", "db2", "bior2.2"])
@pytest.mark.parametrize("size", [(32, 32), (25, 19)])
def test_level_one_bands_sum_to_input(wavelet: str, size: tuple[int, int]) -> None:
    x = images(2, *size)
    total = sum(fp.transform(f"wavelet:{wavelet},keep={band}")(x) for band in ("LL", "LH", "HL", "HH"))
    torch.testing.assert_close(total, x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("band", ["LL", "LH", "HL", "HH"])
def test_drop_is_input_minus_keep(band: str) -> None:
    x = images(2, 24, 40)
    keep = fp.transform(f"wavelet:db2,level=2,keep={band}")(x)
    drop = fp.transform(f"wavelet:db2,level=2,drop={band}")(x)
    torch.testing.assert_close(drop, x - keep, atol=1e-5, rtol=0)


def test_keep_ll_is_smooth_and_keep_hh_has_zero_mean() -> None:
    x = images(2, 32, 32)
    low = fp.transform("wavelet:haar,level=2,keep=LL")(x)
    # Haar LL at level 2 is the 4x4 block mean, repeated over the block.
    blocks = x.reshape(2, 3, 8, 4, 8, 4).mean(dim=(3, 5))
    torch.testing.assert_close(low, blocks.repeat_interleave(4, -2).repeat_interleave(4, -1), atol=1e-6, rtol=0)
    high = fp.transform("wavelet:haar,level=2,keep=HH")(x)
    assert high.mean(dim=(-2, -1)).abs().max() < 1e-6


@pytest.mark.parametrize(
    "spec",
    [
        "wavelet:haar,keep=LL",
        "wavelet:db2,level=2,keep=HH",
        "wavelet:sym4,level=3,drop=LH,mode=periodic",
        "wavelet:bior2.2,keep=HL,mode=zero",
    ],
)
def test_canonical_spec_round_trips(spec: str) -> None:
    assert str(fp.transform(spec)) == spec
    assert fp.transform(str(fp.transform(spec))) == fp.transform(spec)


def test_defaults_are_left_out_of_the_canonical_spec() -> None:
    assert str(fp.transform("wavelet:haar,level=1,keep=LL,mode=symmetric")) == "wavelet:haar,keep=LL"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("wavelet:db99,keep=LL", "unknown wavelet 'db99'; e.g. db9"),
        ("wavelet:nosuch,keep=LL", "e.g. haar, db2"),
        ("wavelet:haar,level=0,keep=LL", "level=0 must be >= 1"),
        ("wavelet:haar,keep=LL,drop=HH", "exactly one of keep= or drop="),
        ("wavelet:haar", "exactly one of keep= or drop="),
        ("wavelet:haar,keep=XY", "keep='XY'; choose one of LL, LH, HL, HH"),
        ("wavelet:haar,drop=xx", "drop='XX'; choose one of LL, LH, HL, HH"),
        ("wavelet:haar,keep=LL,mode=periodization", "mode='periodization'; choose one of"),
        ("wavelet:keep=LL", "missing argument; usage: wavelet:wavelet"),
    ],
)
def test_bad_specs_raise_spec_error(spec: str, fragment: str) -> None:
    with pytest.raises(SpecError, match="wavelet") as err:
        fp.transform(spec)
    assert fragment in str(err.value)
    assert str(err.value).startswith(spec)


@pytest.mark.parametrize(
    ("spec", "size", "deepest"),
    [("wavelet:db2,level=4,keep=LL", (32, 40), 3), ("wavelet:haar,level=6,keep=HH", (32, 32), 5)],
)
def test_level_too_deep_for_size_names_the_maximum(spec: str, size: tuple[int, int], deepest: int) -> None:
    assert pywt.dwt_max_level(min(size), fp.transform(spec).wavelet) == deepest
    with pytest.raises(SpecError, match=f"^{spec}: .*too deep.*maximum level for this size is {deepest}$"):
        fp.transform(spec, size=size)
    fp.transform(spec.replace(f"level={deepest + 1}", f"level={deepest}"), size=size)


def test_level_too_deep_is_checked_when_applied() -> None:
    with pytest.raises(SpecError, match="too deep"):
        fp.transform("wavelet:haar,level=4,keep=LL")(images(1, 8, 8))


def test_band_names_are_case_insensitive() -> None:
    assert str(fp.transform("wavelet:haar,keep=ll")) == "wavelet:haar,keep=LL"
