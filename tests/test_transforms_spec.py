from __future__ import annotations

import numpy as np
import pytest
import torch

import freqprobe as fp
from freqprobe.errors import SpecError
from freqprobe.transforms import REGISTRY, usage


@pytest.mark.parametrize(
    "spec",
    [
        "original",
        "lowpass:0.15",
        "highpass:0.3,window=gaussian",
        "bandpass:0.1,0.25,window=butterworth,order=4",
        "lowpass:0.5,angle=30,60",
        "phase_only",
        "amplitude_only",
        "phase_noise:90,seed=3",
        "power_equalize",
        "lowpass:0.25+highpass:0.05",
    ],
)
def test_canonical_spec_round_trips(spec: str) -> None:
    assert str(fp.transform(spec)) == spec
    assert fp.transform(str(fp.transform(spec))) == fp.transform(spec)


def test_spec_is_normalised_to_canonical_form() -> None:
    t = fp.transform(" lowpass : 0.150 , window=ideal + bandpass:0.1,0.2,angle=-10,370 ")
    assert str(t) == "lowpass:0.15+bandpass:0.1,0.2,angle=170,10"


def test_sector_angles_are_canonical_mod_180_and_a_half_turn_is_every_direction() -> None:
    assert fp.transform("lowpass:0.3,angle=-45,45") == fp.transform("lowpass:0.3,angle=135,45")
    for spec in ("lowpass:0.3,angle=0,180", "lowpass:0.3,angle=0,360", "lowpass:0.3,angle=10,190"):
        assert str(fp.transform(spec)) == "lowpass:0.3"
    with pytest.raises(SpecError, match="empty sector"):
        fp.transform("lowpass:0.3,angle=10,10")


@pytest.mark.parametrize("spec", ["lowpass:0.1", "phase_only", "jpeg:75", "edges:canny", "repr:dct8", "dct:keep=LOW"])
def test_an_empty_batch_gives_an_empty_output_of_the_output_shape(spec: str) -> None:
    t = fp.transform(spec)
    assert tuple(t(torch.rand(0, 3, 32, 32)).shape) == (0, *t.output_shape((3, 32, 32)))


def test_index_may_be_a_list_or_numpy_array() -> None:
    t, x = fp.transform("noise:0.1,seed=2"), torch.rand(3, 3, 8, 8)
    torch.testing.assert_close(t(x, [4, 5, 6]), t(x, torch.arange(4, 7)))
    torch.testing.assert_close(t(x, np.arange(4, 7)), t(x, torch.arange(4, 7)))
    assert not torch.allclose(t(x, np.arange(4, 7)), t(x, np.arange(3)))  # the index does pick the noise


def test_equal_specs_are_equal_and_hashable() -> None:
    assert fp.transform("lowpass:0.2") == fp.transform("lowpass:0.20")
    assert fp.transform("lowpass:0.2") != fp.transform("highpass:0.2")
    assert len({fp.transform("lowpass:0.2"), fp.transform("lowpass:0.200")}) == 1


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("nosuch:1", "unknown transform 'nosuch'"),
        ("lowpass", "missing argument; usage: lowpass:cutoff"),
        ("lowpass:0", "outside (0, 0.71]"),
        ("lowpass:0.72", "outside (0, 0.71]"),
        ("highpass:-0.1", "outside (0, 0.71]"),
        ("lowpass:x", "cutoff must be float"),
        ("lowpass:0.1,window=box", "choose one of ideal, gaussian, butterworth"),
        ("lowpass:0.1,window=gaussian,order=3", "order= applies to window=butterworth only"),
        ("lowpass:0.1,window=butterworth,order=0", "order=0 must be >= 1"),
        ("bandpass:0.3,0.2", "needs F1 < F2"),
        ("lowpass:0.1,angle=10", "angle takes two values"),
        ("lowpass:0.1,colour=1", "unknown argument 'colour'"),
        ("lowpass:0.1,window=gaussian,window=ideal", "given twice"),
        ("lowpass:0.1,0.2", "too many arguments"),
        ("phase_noise:0", "outside (0, 180]"),
        ("", "non-empty string"),
    ],
)
def test_bad_spec_gives_one_line_error_naming_it(spec: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        fp.transform(spec)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    if spec:
        assert message.startswith(spec)


def test_unknown_name_lists_the_registered_ones() -> None:
    with pytest.raises(SpecError, match="known: .*lowpass"):
        fp.transform("lowpas:0.1")


def test_composition_applies_stages_left_to_right() -> None:
    x = torch.rand(2, 3, 16, 16)
    composed = fp.transform("lowpass:0.2+phase_only")
    manual = fp.transform("phase_only")(fp.transform("lowpass:0.2")(x))
    reversed_order = fp.transform("lowpass:0.2")(fp.transform("phase_only")(x))
    torch.testing.assert_close(composed(x), manual)
    assert not torch.allclose(composed(x), reversed_order, atol=1e-4)


def test_call_rejects_non_batches() -> None:
    with pytest.raises(ValueError, match=r"expected a float tensor \(N, C, H, W\)"):
        fp.transform("lowpass:0.2")(torch.rand(3, 16, 16))
    with pytest.raises(ValueError, match="expected a float tensor"):
        fp.transform("lowpass:0.2")(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def test_every_registered_transform_documents_itself() -> None:
    for name, cls in REGISTRY.items():
        assert cls.summary, name
        assert usage(name).startswith(f"usage: {name}")
