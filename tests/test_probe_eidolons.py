"""Eidolons (Koenderink et al.'s partially coherent disarray) on their defining properties."""

from __future__ import annotations

import math

import pytest
import torch

from freqprobe.probe.distortions import DISTORTIONS, EIDOLON_COHERENCE, grey, parse_conditions
from freqprobe.probe.eidolons import displacement_fields, embed, partially_coherent_disarray, scale_levels

SIZE = 32


def smooth_images(n: int = 4) -> torch.Tensor:
    """Grey images of a few low-frequency waves in [0.1, 0.9] (a displacement changes them
    by an amount that grows with its size, unlike white noise)."""
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    out = torch.zeros(n, SIZE, SIZE, dtype=torch.float64)
    for _ in range(3):
        f = 1 / SIZE * torch.randint(1, 3, (n, 2, 1, 1), generator=g)
        phase = 2 * math.pi * torch.rand(n, 1, 1, generator=g)
        out += torch.cos(2 * math.pi * (f[:, 0] * yy + f[:, 1] * xx) + phase)
    return 0.5 + 0.4 * out / out.abs().amax(dim=(1, 2), keepdim=True)


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm()))


def test_reach_zero_gives_the_image_back() -> None:
    x = smooth_images().double()
    out = partially_coherent_disarray(x, 0.0, 0.3, 10.0, torch.arange(4), seed=0)
    torch.testing.assert_close(out, x, atol=1e-10, rtol=0)
    colour = torch.rand(2, 3, SIZE, SIZE, dtype=torch.float64)
    for name in EIDOLON_COHERENCE:
        condition = parse_conditions(f"{name}:0")[0]
        torch.testing.assert_close(condition(colour, torch.arange(2)), grey(colour), atol=1e-10, rtol=0)


def test_the_image_sits_unchanged_in_a_mirrored_plane_of_power_of_two_sides() -> None:
    x = torch.rand(2, 20, 30)
    plane, (top, left) = embed(x)
    assert plane.shape[-2:] == (32, 64)  # the powers of two at or above 1.5 x (20, 30)
    torch.testing.assert_close(plane[:, top : top + 20, left : left + 30], x)
    torch.testing.assert_close(plane[:, top - 1, left : left + 30], x[:, 0])  # mirrored, edge repeated


def test_scales_are_the_factorys() -> None:
    levels = scale_levels(256)
    assert len(levels) == 12 and levels[0] == pytest.approx(1 / math.sqrt(2))
    torch.testing.assert_close(levels[1:] / levels[:-1], torch.full((11,), math.sqrt(2), dtype=torch.float64))


def test_displacement_and_change_grow_with_reach() -> None:
    x = smooth_images()
    fields = displacement_fields((64, 64), 0.3, 10.0, torch.arange(4), seed=0, size=SIZE)
    assert 0.5 < float(fields.abs().mean()) < 5  # pixels per unit of reach
    changes = [float((partially_coherent_disarray(x, reach, 0.3, 10.0, torch.arange(4), 0) - x).abs().mean())
               for reach in (0.5, 1, 2, 4, 8)]  # fmt: skip
    assert all(a < b for a, b in zip(changes, changes[1:])), changes
    assert changes[0] > 1e-3


def test_coherence_scales_the_part_of_the_field_independent_per_scale() -> None:
    index = torch.arange(3)
    coherent, half, full = (displacement_fields((64, 64), c, 10.0, index, 0, SIZE) for c in (0.0, 0.5, 1.0))
    torch.testing.assert_close(half, coherent + 0.5 * (full - coherent))
    # coherent fields share their coarse parts: the finest levels move nearly together
    assert correlation(coherent[:, 0], coherent[:, 1]) > 0.85
    assert correlation(full[:, 0], full[:, 1]) < correlation(coherent[:, 0], coherent[:, 1]) - 0.05
    incoherent = full - coherent  # independent across levels
    assert abs(correlation(incoherent[:, 0], incoherent[:, 1])) < 0.2


def test_the_three_sets_are_model_vs_humans() -> None:
    assert EIDOLON_COHERENCE == {"eidolonI": 1.0, "eidolonII": 0.3, "eidolonIII": 0.0}
    assert DISTORTIONS["eidolonI"].preset[:2] == ("1-10-10", "2-10-10")
    assert DISTORTIONS["eidolonII"].preset[-1] == "128-3-10"
    assert DISTORTIONS["eidolonIII"].parse("16-0-10") == 16.0


def test_eidolons_are_drawn_per_image_and_seed() -> None:
    x = torch.rand(4, 3, SIZE, SIZE)
    condition = parse_conditions("eidolonII:8", seed=3)[0]
    out = condition(x, torch.arange(4))
    torch.testing.assert_close(condition(x[2:], torch.arange(2, 4)), out[2:])
    assert not torch.allclose(parse_conditions("eidolonII:8", seed=4)[0](x, torch.arange(4)), out)
    assert out.min() >= 0 and out.max() <= 1 and torch.equal(out[:, 0], out[:, 2])


def test_the_probe_runs_eidolon_conditions_and_names_them_as_the_benchmark() -> None:
    import freqprobe as fp

    images = (smooth_images(4).float()[:, None].expand(-1, 3, -1, -1) * 255).to(torch.uint8)
    mean_reader = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * SIZE * SIZE, 2))
    report = fp.probe(mean_reader, (images, [0, 1, 0, 1], ["a", "b"]), distortions="eidolonIII:1,4", device="cpu")
    eidolons = report.curves[report.curves["distortion"] != "original"]  # the undistorted baseline comes first
    assert list(dict.fromkeys(eidolons["condition"])) == ["1-0-10", "4-0-10"]
    assert eidolons["level"].tolist() == [1.0, 4.0]
