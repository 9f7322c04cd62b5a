"""Yin et al.'s Fourier heat map of a K-class model: a model that reads one frequency has a known map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.attribution.fourier_maps import basis_images, top_k_misses
from freqprobe.errors import FreqprobeError

SIZE, ROW, COL, EPS = 16, 3, 2, 2.0


class OneFrequency(nn.Module):
    """Scores of classes a, b, c from ``p``, channel 0's projection on the unit cosine at
    ``(ROW, COL)``: ``-|p|``, ``-||p| - EPS|``, ``-||p| - 1.5 EPS|``. Grey images have
    ``p = 0`` (class a); the basis image of that frequency times ``EPS`` gives ``|p| = EPS``:
    b first, then c, then a. Every other basis image is orthogonal: ``p`` stays 0."""

    def __init__(self) -> None:
        super().__init__()
        basis = basis_images(SIZE, SIZE, torch.tensor([ROW]), torch.tensor([COL]), torch.device("cpu"))[0]
        self.register_buffer("basis", basis)
        self.seen = [np.inf, -np.inf]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = [min(self.seen[0], float(x.min())), max(self.seen[1], float(x.max()))]
        p = ((x[:, 0] - 0.5) * self.basis.to(x.dtype)).sum(dim=(-2, -1)).double().abs()
        return torch.stack([-p, -(p - EPS).abs(), -(p - 1.5 * EPS).abs()], dim=1)


def grey_images(n: int = 6) -> tuple[torch.Tensor, list[str], list[str]]:
    return torch.full((n, 3, SIZE, SIZE), 0.5), ["a"] * n, ["a", "b", "c"]


def test_the_map_is_the_known_one_for_every_k() -> None:
    report = fp.fourier_heatmap(OneFrequency(), grey_images(), eps=EPS, top_k=(1, 2, 3), device="cpu")
    expected = np.zeros((SIZE, SIZE))
    expected[ROW, COL] = expected[-ROW, -COL] = 1.0
    np.testing.assert_array_equal(report.maps[0], expected)  # top-1: b wins at that frequency only
    np.testing.assert_array_equal(report.maps[1], expected)  # top-2: b, c ahead of a
    np.testing.assert_array_equal(report.maps[2], 0 * expected)  # top-3: every class
    np.testing.assert_array_equal(report.clean, [0.0, 0.0, 0.0])
    table = report.table
    assert len(table) == 3 * SIZE * SIZE
    worst = table[(table["k"] == 1) & (table["error"] == 1.0)]
    assert sorted(zip(worst["fy"], worst["fx"])) == [(-ROW / SIZE, -COL / SIZE), (ROW / SIZE, COL / SIZE)]


def test_clamping_keeps_perturbed_images_in_range_and_changes_the_answer() -> None:
    loud = 40.0  # amplitude 40 * sqrt(2) / 16 > 0.5: the cosine leaves [0, 1]
    free, clipped = OneFrequency(), OneFrequency()
    kept = fp.fourier_heatmap(free, grey_images(), eps=loud, device="cpu")
    clamped = fp.fourier_heatmap(clipped, grey_images(), eps=loud, clamp=True, device="cpu")
    assert free.seen[0] < 0 and free.seen[1] > 1
    assert clipped.seen[0] >= 0 and clipped.seen[1] <= 1
    assert kept.maps[0, ROW, COL] == 1.0 and clamped.settings["clamp"] is True


def test_top_k_misses_break_ties_as_argmax() -> None:
    scores = torch.tensor([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]])
    misses = top_k_misses(scores, torch.tensor([1, 1]), (1, 2))
    assert misses.tolist() == [[True, False], [False, False]]
    assert (misses[0] == (scores.argmax(dim=1) != torch.tensor([1, 1]))).all()


def test_the_report_saves_a_table_maps_and_a_figure(tmp_path) -> None:
    report = fp.fourier_heatmap(OneFrequency(), grey_images(), eps=EPS, top_k=(1, 2), device="cpu")
    report.save(tmp_path)
    for name in ("heatmap.csv", "maps.npz", "settings.json", "heatmap.png", "heatmap.pdf"):
        assert (tmp_path / name).is_file()
    with np.load(tmp_path / "maps.npz") as saved:
        np.testing.assert_array_equal(saved["maps"], report.maps)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(FreqprobeError, match="top_k must lie in 1..3"):
        fp.fourier_heatmap(OneFrequency(), grey_images(), top_k=4, device="cpu")
    with pytest.raises(FreqprobeError, match="eps must be > 0"):
        fp.fourier_heatmap(OneFrequency(), grey_images(), eps=0, device="cpu")


def one_frequency() -> nn.Module:
    """A ``module:factory`` for the command-line test."""
    return OneFrequency()


def test_the_heatmap_command_writes_the_known_map(tmp_path, capsys) -> None:
    from PIL import Image

    from freqprobe.cli import main

    (tmp_path / "data" / "a").mkdir(parents=True)
    for k in range(3):
        Image.fromarray(np.full((SIZE, SIZE, 3), 128, np.uint8)).save(tmp_path / "data" / "a" / f"{k}.png")
    code = main(["heatmap", "--model", "test_probe_fourier_heatmap:one_frequency", "--data", str(tmp_path / "data"),
                 "--class-names", "a", "b", "c", "--eps", str(EPS), "--top-k", "1", "3", "--device", "cpu",
                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "out" / "heatmap.csv")
    assert table.groupby("k")["error"].sum().to_dict() == {1: 2.0, 3: 0.0}  # the frequency and its conjugate
    assert "one_frequency on 3 images" in capsys.readouterr().out
