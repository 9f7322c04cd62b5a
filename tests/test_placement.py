"""Resident or streamed image sets (``execution.placement``): the choice under a budget
passed as a parameter, and spectra and attribution through the streamed path equal to the
plain path exactly (the chunked two-slot staging runs on the CPU too)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.execution import placement
from freqprobe.execution.placement import chunks, fits_resident, place, placed
from freqprobe.spectra.measure import MeasurePlan, measure_set

IMAGE = 3 * 16 * 16  # bytes of one 16-px uint8 image


def test_a_set_within_half_the_budget_is_resident() -> None:
    assert fits_resident(100, 200) and not fits_resident(101, 200)
    chosen = place(100, IMAGE, budget=200 * IMAGE, batch_size=8)
    assert chosen.resident and chosen.chunk == 100 and chosen.nbytes == 100 * IMAGE


def test_a_larger_set_streams_in_whole_batches_within_a_quarter_of_the_budget() -> None:
    chosen = place(100, IMAGE, budget=100 * IMAGE, batch_size=8)  # a quarter: 25 images -> 3 batches
    assert not chosen.resident and chosen.chunk == 24
    assert place(100, IMAGE, budget=100 * IMAGE, batch_size=8, chunk_bytes=10 * IMAGE).chunk == 8  # the chunk cap
    assert place(100, IMAGE, budget=IMAGE, batch_size=8).chunk == 8  # at least one batch
    assert place(5, IMAGE, budget=IMAGE, batch_size=8).chunk == 5  # at most the set
    assert "chunks of 24 images" in chosen.describe(torch.device("cpu"))


def test_streamed_chunks_give_the_set_in_order() -> None:
    images = torch.randint(0, 256, (37, 3, 16, 16), dtype=torch.uint8)
    pixels, chosen = placed(images, torch.device("cpu"), batch_size=4, budget=40 * IMAGE)
    assert not chosen.resident and chosen.chunk == 8
    seen = [chunk.clone() for chunk in chunks(pixels, torch.device("cpu"), chosen)]
    assert [len(c) for c in seen] == [8, 8, 8, 8, 5]
    assert torch.equal(torch.cat(seen), images)
    batches = list(placement.batches(pixels, 4, torch.device("cpu"), chosen))
    assert [len(b) for b in batches] == [4] * 9 + [1]


def test_the_choice_is_logged_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    images = torch.zeros(10, 3, 16, 16, dtype=torch.uint8)
    with caplog.at_level(logging.INFO, logger="freqprobe.placement"):
        placed(images, torch.device("cpu"), batch_size=2, budget=8 * IMAGE)
        placed(images, torch.device("cpu"), batch_size=2, budget=10**9)
    assert [r.getMessage().split(": ", 1)[1].split(" ")[0] for r in caplog.records] == ["streamed", "resident"]


def _sums_equal(a, b, rtol: float = 0.0) -> None:
    """Every running sum of ``a`` equals ``b``'s (exactly, or within ``rtol``)."""
    for name, value in vars(a).items():
        other = getattr(b, name)
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, other) if rtol == 0 else torch.allclose(value, other, rtol=rtol), name
        elif hasattr(value, "__dict__"):
            _sums_equal(value, other, rtol)
        else:
            assert value == other, name


def test_spectra_through_the_streamed_path_equal_the_plain_path() -> None:
    real, _ = fp.demo_sets(n=40, size=32)
    plan = MeasurePlan.build(32, 32, torch.device("cpu"), "hann", "gaussian", 4)
    plain = measure_set(real, plan)
    streamed = measure_set(real, plan, budget=real.images.numel() // 3)  # chunks of 12 images, 4 chunks
    assert plain.image.radial.count == 40
    _sums_equal(plain, streamed)


@pytest.fixture
def tiny_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every placement sees a budget of 24 KiB: 16-px sets stream in chunks of 2 images."""
    monkeypatch.setattr(placement, "default_budget", lambda device: 4 * 2 * IMAGE)


def test_fp_spectrum_streamed_equals_plain(tiny_budget, monkeypatch: pytest.MonkeyPatch) -> None:
    real, fake = fp.demo_sets(n=10, size=16)
    streamed = fp.spectrum(real, fake, names=["real", "generated"], device="cpu", batch_size=2)
    monkeypatch.setattr(placement, "default_budget", lambda device: 10**12)
    plain = fp.spectrum(real, fake, names=["real", "generated"], device="cpu", batch_size=2)
    pd.testing.assert_frame_equal(streamed.table, plain.table, check_exact=True)


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()


def test_fp_attribute_streamed_equals_plain(tiny_budget, monkeypatch: pytest.MonkeyPatch) -> None:
    real, fake = fp.demo_sets(n=8, size=16)
    options = dict(bands=4, sectors=1, methods=["ablation", "ig"], pixel_methods=["ig", "occlusion"], heatmap=False, ig_steps=4,
                   batch_size=16, pixel_images=4, device="cpu")  # fmt: skip  # batches of 2 images
    streamed = fp.attribute(small_net(), real, fake, **options)
    monkeypatch.setattr(placement, "default_budget", lambda device: 10**12)
    plain = fp.attribute(small_net(), real, fake, **options)
    pd.testing.assert_frame_equal(streamed.table, plain.table, check_exact=True)
    for name, values in plain.maps.items():
        assert np.array_equal(streamed.maps[name], values), name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_streams_on_a_side_stream_and_equals_resident() -> None:
    device = torch.device("cuda")
    images = torch.randint(0, 256, (301, 3, 32, 32), dtype=torch.uint8)
    pixels, chosen = placed(images, device, batch_size=16, budget=100 * 3 * 32 * 32)
    assert not chosen.resident and pixels.device.type == "cpu"
    total = sum(int(c.double().sum()) for c in chunks(pixels, device, chosen))  # each chunk used before the next
    assert total == int(images.double().sum())
    real, _ = fp.demo_sets(n=64, size=32)
    plan = MeasurePlan.build(32, 32, device, "hann", "gaussian", 8)
    # CUDA's index_add_ sums in no fixed order: equal to float rounding, not bit for bit
    _sums_equal(measure_set(real, plan), measure_set(real, plan, budget=real.images.numel() // 2), rtol=1e-5)


def test_the_command_line_shows_where_each_set_was_placed(tmp_path, capsys) -> None:
    from freqprobe.cli import main

    real, fake = fp.demo_sets(n=12, size=16)
    for name, images in (("real", real), ("fake", fake)):
        np.save(tmp_path / f"{name}.npy", images.images.permute(0, 2, 3, 1).numpy())
    code = main(["spectrum", "--real", str(tmp_path / "real.npy"), "--fake", str(tmp_path / "fake.npy"),
                 "--device", "cpu", "--out", str(tmp_path / "run")])  # fmt: skip
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("freqprobe: ")]
    assert code == 0 and len(lines) >= 2 and all("resident" in line for line in lines)
