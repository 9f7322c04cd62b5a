"""compare and drift on sets that differ by known amounts, in a known order."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import freqprobe as fp
from freqprobe.errors import FreqprobeError
from freqprobe.training import Recipe

FAST = Recipe(epochs=2, min_steps=40)
SIZE = 16


@functools.lru_cache
def crops_with_wave(seed: int, amplitude: float, n: int = 80) -> fp.ImageSet:
    """Demo photo crops (their own draw per seed) with a planted sinusoid of ``amplitude``
    (in [0, 1] units) at (0.25, 0.125) cycles/pixel: the amplitude is the known difference."""
    real, _ = fp.demo_sets(n=n, size=SIZE, seed=seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    wave = torch.from_numpy(amplitude * np.cos(2 * np.pi * (0.25 * yy + 0.125 * xx))).float()
    images = (real.images.float() / 255 * 0.8 + 0.1 + wave).clamp(0, 1)
    return fp.ImageSet((images * 255).round().to(torch.uint8), origin="array")


def no_training(*args, **kwargs):
    raise AssertionError("retrained a run the store has")


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> fp.CompareResult:
    """An ablate study of A, B, C first, then the comparison of the same sets into the same
    folder with a trainer that fails: every pair must come from ablate's run store."""
    folder = tmp_path_factory.mktemp("compare")
    sets = {"A": crops_with_wave(0, 0.0, 48), "B": crops_with_wave(1, 0.0, 48), "C": crops_with_wave(2, 0.1, 48)}
    fp.ablate(sets["A"], [sets["B"], sets["C"]], names=list(sets), seeds=1, recipe=FAST, device="cpu", progress=False,
              out=folder)  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("freqprobe.execution.jobs.train_classifier", no_training)
        return fp.compare(sets, seeds=1, recipe=FAST, device="cpu", progress=False, out=folder)


@pytest.fixture(scope="module")
def curve(tmp_path_factory) -> fp.DriftResult:
    generations = [crops_with_wave(seed, amplitude) for seed, amplitude in ((1, 0.0), (2, 0.01), (3, 0.03))]
    return fp.drift(crops_with_wave(0, 0.0), generations, seeds=1, recipe=FAST, device="cpu", progress=False,
                    names=["real", "g1", "g2", "g3"], out=tmp_path_factory.mktemp("drift"))  # fmt: skip


def test_the_matrix_has_one_row_per_unordered_pair_and_the_null_control(matrix) -> None:
    pairs = matrix.table[matrix.table["variant"] == "original"]
    assert sorted(zip(pairs["set_a"], pairs["set_b"])) == [("A", "B"), ("A", "C"), ("B", "C")]
    null = matrix.table[matrix.table["variant"] == "real-vs-real"]
    assert list(zip(null["set_a"], null["set_b"])) == [("A", "A")]
    assert {"set_a", "set_b", "variant", "accuracy", "ci_low", "ci_high"} <= set(matrix.table.columns)


def test_alike_sets_sit_at_chance_and_the_far_set_is_told_apart(matrix) -> None:
    rows = matrix.table.set_index(["set_a", "set_b"])
    assert rows.loc[("A", "B"), "ci_low"] <= 0.5 <= rows.loc[("A", "B"), "ci_high"]
    assert rows.loc[("A", "C"), "ci_low"] > 0.5 and rows.loc[("B", "C"), "ci_low"] > 0.5


def test_clustering_puts_the_alike_sets_side_by_side(matrix) -> None:
    order = matrix.order()
    assert abs(order.index("A") - order.index("B")) == 1
    distances = matrix.distances()
    assert distances.loc["A", "C"] > 0.5 > distances.loc["A", "B"]


def test_compare_reuses_the_pairwise_runs_of_an_ablate_study_in_the_same_folder(matrix) -> None:
    study = fp.AblationResult.load(matrix.folder)  # the fixture's compare ran with a trainer that fails
    assert len(matrix.table) == len(study.pairwise) + 1  # every pair from the store, and the null control
    assert set(study.table["run"]) == {p.stem for p in (matrix.folder / "runs").glob("*.json")}


def test_saved_tables_read_back_unchanged_and_the_figure_redraws(matrix, curve) -> None:
    for result, name in ((matrix, "matrix.csv"), (curve, "drift.csv")):
        table = pd.read_csv(result.folder / name)
        pd.testing.assert_frame_equal(table, result.table, check_dtype=False)
        assert (result.folder / name.replace(".csv", ".png")).is_file()
    loaded = fp.CompareResult.load(matrix.folder)
    assert loaded.order() == matrix.order()
    fig = loaded.plot()
    heat = next(ax for ax in fig.axes if ax.images)  # the heat map, beside the dendrogram and its colour bar
    assert [t.get_text() for t in heat.get_xticklabels()] == matrix.order()  # in clustering order
    assert any(ax.collections and not ax.images for ax in fig.axes)  # the dendrogram's branches
    drift = fp.DriftResult.load(curve.folder).plot()
    assert {"original vs real", "real-vs-real"} <= {t.get_text() for t in drift.axes[0].get_legend().get_texts()}


def test_a_monotone_drift_shows_as_a_rising_curve(curve) -> None:
    against_real = curve.table[curve.table["reference"] == "real"]
    assert list(against_real["generation"]) == ["real", "g1", "g2", "g3"]  # the null control first
    accuracy, low = against_real["accuracy"].to_numpy(), against_real["ci_low"].to_numpy()
    assert np.all(accuracy[2:] > low[1:-1]) and accuracy[3] > accuracy[1] + 0.25  # rising, beyond the intervals
    g1, g3 = against_real.iloc[1], against_real.iloc[3]
    assert g1["ci_low"] <= 0.5 <= g1["ci_high"] and g3["ci_low"] > 0.5
    assert curve.onset["generation"].tolist() in (["g2"], ["g3"])


def test_drift_rows_come_in_generation_order_with_both_references(curve) -> None:
    rows = list(zip(curve.table["generation"], curve.table["reference"], curve.table["variant"]))
    assert rows == [("real", "real", "real-vs-real"), ("g1", "real", "original"), ("g2", "real", "original"),
                    ("g2", "previous", "original"), ("g3", "real", "original"), ("g3", "previous", "original")]
    previous = curve.table[curve.table["reference"] == "previous"].set_index("generation")
    assert previous.loc["g3", "ci_low"] > 0.5  # 0.01 -> 0.03 is told apart


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: fp.compare([crops_with_wave(0, 0.0, 8)]), "at least two sets"),
        (lambda: fp.compare({"a": crops_with_wave(0, 0.0, 8), "b": crops_with_wave(1, 0.0, 8)}, names=["x", "y"]),
         "either as the keys"),
        (lambda: fp.drift(crops_with_wave(0, 0.0, 8), []), "at least one generation"),
        (lambda: fp.compare([crops_with_wave(0, 0.0, 8)] * 2, names=["a", "a"]), "distinct names"),
    ],
)
def test_bad_input_is_one_line_error(call, fragment: str) -> None:
    with pytest.raises(FreqprobeError, match=fragment):
        call()


def test_loading_a_folder_without_a_matrix_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(FreqprobeError, match="no matrix.csv"):
        fp.CompareResult.load(tmp_path)


def test_the_command_line_compares_and_drifts_on_shared_runs(tmp_path: Path, monkeypatch) -> None:
    from freqprobe.cli import main
    from freqprobe.io import write_samples_npz

    paths = []
    for seed, amplitude, name in ((0, 0.0, "real"), (1, 0.0, "g1"), (2, 0.1, "g2")):
        paths.append(write_samples_npz(crops_with_wave(seed, amplitude, 32).numpy(), tmp_path / f"{name}.npz"))
    common = ["--seeds", "1", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path / "run")]
    assert main(["compare", *(a for p in paths for a in ("--set", str(p))), *common]) == 0
    monkeypatch.setattr("freqprobe.execution.jobs.train_classifier", no_training)
    assert main(["drift", "--real", str(paths[0]), "--generation", str(paths[1]), "--generation", str(paths[2]),
                 *common]) == 0  # fmt: skip
    drift_table = pd.read_csv(tmp_path / "run" / "drift.csv")
    assert list(drift_table["generation"]) == ["real", "g1", "g2", "g2"]
    assert main(["compare", "--set", str(paths[0]), "--out", str(tmp_path / "x")]) == 2  # one set: one-line error


def test_compare_and_drift_take_ray_on_the_command_line_as_ablate_does() -> None:
    from freqprobe.cli import build_parser
    from freqprobe.cli.grid_options import grid_options

    parser = build_parser()
    for command in (["compare", "--set", "a", "--set", "b"], ["drift", "--real", "a", "--generation", "b"]):
        local = grid_options(parser.parse_args([*command, "--out", "x"]))
        joined = grid_options(parser.parse_args([*command, "--out", "x", "--ray", "10.0.0.1:6379"]))
        started = grid_options(parser.parse_args([*command, "--out", "x", "--ray"]))
        assert (local["executor"], local["address"]) == ("local", None)
        assert (joined["executor"], joined["address"]) == ("ray", "10.0.0.1:6379")
        assert (started["executor"], started["address"]) == ("ray", None)


def spectrum_folder(tmp_path: Path) -> Path:
    """A run folder that holds another analysis (a spectrum's tables): compare must not write there."""
    folder = tmp_path / "spectrum"
    folder.mkdir()
    for name in ("radial.csv", "peaks.csv"):
        (folder / name).write_text("set,f,power\nreal,0.1,1.0\n")
    return folder


@pytest.fixture
def no_loading(monkeypatch) -> None:
    """Any image set loaded, by the command line or by the library, fails the test."""

    def loaded(*args, **kwargs):
        raise AssertionError("a set was loaded")

    monkeypatch.setattr("freqprobe.data.load_images", loaded)
    monkeypatch.setattr("freqprobe.experiments.pairs.load_images", loaded)


@pytest.mark.parametrize("command", [["compare", "--set", "a.npz", "--set", "b.npz"],
                                     ["drift", "--real", "a.npz", "--generation", "b.npz"]])  # fmt: skip
def test_a_bad_out_on_the_command_line_is_one_line_before_any_set_is_loaded(
    command, tmp_path: Path, no_loading, capsys
) -> None:
    from freqprobe.cli import main

    assert main([*command, "--out", str(spectrum_folder(tmp_path))]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "holds the results of 'spectrum'" in error


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda tmp: fp.compare(["a.npz", "b.npz"], out=spectrum_folder(tmp)), "holds the results of 'spectrum'"),
        (lambda tmp: fp.drift("a.npz", ["b.npz"], out=spectrum_folder(tmp)), "holds the results of 'spectrum'"),
        (lambda tmp: fp.compare(["a.npz", "b.npz"], seeds=0), "seeds must be a positive count"),
        (lambda tmp: fp.compare(["a.npz", "b.npz"], executor="slurm"), "executor must be local or ray"),
        (lambda tmp: fp.compare(["a.npz", "b.npz"], mode="probe"), "unknown option 'mode'"),
        (lambda tmp: fp.compare(["a.npz", "b.npz"], names=["a"]), "2 distinct names"),
        (lambda tmp: fp.compare("a.npz"), "at least two sets to compare, got 1"),
        (lambda tmp: fp.drift("a.npz", ["b.npz", "c.npz"], names=["r", "g", "g"]), "3 distinct names"),
    ],
)
def test_what_needs_no_images_is_checked_before_any_set_is_loaded(call, fragment, tmp_path: Path, no_loading) -> None:
    with pytest.raises(FreqprobeError, match=fragment):
        call(tmp_path)


def test_distances_are_the_accuracies_above_chance_rescaled_and_floored(tmp_path: Path) -> None:
    table = pd.DataFrame(
        [("A", "A", "real-vs-real", 0.60, 0.5), ("A", "B", "original", 0.40, 0.5), ("A", "C", "original", 0.90, 0.5),
         ("B", "C", "original", 0.70, 0.5), ("A", "B", "lowpass:0.1", 0.75, 0.5), ("A", "C", "lowpass:0.1", 0.5, 0.5),
         ("B", "C", "lowpass:0.1", 1.0, 0.5)],
        columns=["set_a", "set_b", "variant", "accuracy", "chance"],
    )  # fmt: skip
    result = fp.CompareResult(table, ["A", "B", "C"])
    expected = {  # (accuracy - 0.5) / 0.5, below chance floored at 0, by hand
        "original": [[0.0, 0.0, 0.8], [0.0, 0.0, 0.4], [0.8, 0.4, 0.0]],
        "lowpass:0.1": [[0.0, 0.5, 0.0], [0.5, 0.0, 1.0], [0.0, 1.0, 0.0]],
    }
    for variant, matrix in expected.items():
        distances = result.distances(variant)
        assert list(distances.index) == list(distances.columns) == ["A", "B", "C"]
        np.testing.assert_allclose(distances.to_numpy(), matrix, atol=1e-12)
    pd.testing.assert_frame_equal(result.distances(), result.distances("original"))  # the first variant by default
    with pytest.raises(FreqprobeError, match="no variant 'real-vs-real'"):
        result.distances("real-vs-real")  # the null control is no distance: it would fill the diagonal
