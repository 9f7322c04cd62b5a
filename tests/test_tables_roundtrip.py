"""Every table freqprobe writes reads back with a plain ``pandas.read_csv`` to the values it holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.training import Recipe
from synthetic import planted_sets

FAST = Recipe(epochs=1, min_steps=4)
STUDY = """
out = "study"
device = "cpu"
[sets]
real = { demo = "real", n = 40, size = 16 }
generated = { demo = "generated", n = 40, size = 16 }
[analyses.spectrum]
sets = ["real", "generated"]
[analyses.ablation]
kind = "ablate"
fakes = ["generated"]
seeds = 1
recipe = { epochs = 1, min_steps = 4 }
progress = false
"""


def assert_reads_back(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    """The CSVs under ``folder`` are exactly ``tables`` (by relative path), and each reads
    back with default ``pd.read_csv`` to the same values (floats exactly)."""
    written = sorted(str(path.relative_to(folder)) for path in folder.rglob("*.csv") if path.name != "warnings.csv")
    assert written == sorted(tables), "a table was written that this test does not know"
    if (folder / "warnings.csv").exists():  # the warnings the run gave, as text
        assert pd.read_csv(folder / "warnings.csv")["message"].notna().all()
    for name, table in tables.items():
        back = pd.read_csv(folder / name)
        pd.testing.assert_frame_equal(back, table.reset_index(drop=True), check_dtype=False, check_exact=True, obj=name)


def study_sets(k: int = 2) -> list[fp.ImageSet]:
    real, fake = planted_sets(48, 16, 0.25, 0.25, 0.1)
    others = [fp.ImageSet(planted_sets(48, 16, 0.125, 0.25 + 0.125 * i, 0.1, seed=3 + i)[1]) for i in range(k - 2)]
    return [fp.ImageSet(real), fp.ImageSet(fake), *others]


@pytest.mark.parametrize("k", [2, 3], ids=["binary", "kway"])
def test_ablate_tables_read_back(k, tmp_path) -> None:
    real, *fakes = study_sets(k)
    result = fp.ablate(real, fakes, ["original", "lowpass:0.2"], seeds=2, recipe=FAST, progress=False, out=tmp_path)
    tables = {"results.csv": result.table, "summary.csv": result.summary}
    if k > 2:
        tables |= {"confusion.csv": result.confusion, "per_class.csv": result.per_class, "pairwise.csv": result.pairwise}
    assert (result.table["task"] == "real-vs-real").sum() == 2  # the null control is in it, by name
    assert_reads_back(tmp_path, tables)


def study_tables(study: fp.AblationResult) -> dict[str, pd.DataFrame]:
    """The tables an ablate study writes into its folder."""
    tables = {"results.csv": study.table, "summary.csv": study.summary}
    if not study.confusion.empty:
        tables |= {"confusion.csv": study.confusion, "per_class.csv": study.per_class}
    if not study.pairwise.empty:
        tables["pairwise.csv"] = study.pairwise
    return tables


def test_compare_drift_and_augment_tables_read_back(tmp_path) -> None:
    from test_experiments_augment import two_classes

    sets, names = study_sets(3), ["real", "g1", "g2"]
    options = {"seeds": 1, "recipe": FAST, "names": names, "progress": False, "device": "cpu"}
    comparison = fp.compare(sets, ["original"], out=tmp_path / "compare", **options)
    assert_reads_back(tmp_path / "compare", {"matrix.csv": comparison.table, **study_tables(comparison.study)})
    assert "real-vs-real" in set(comparison.table["variant"])
    drifted = fp.drift(sets[0], sets[1:], ["original"], out=tmp_path / "drift", **options)
    assert_reads_back(tmp_path / "drift", {"drift.csv": drifted.table, **study_tables(drifted.study)})
    augmented = fp.augment_vs_replace(two_classes(20, 0), two_classes(20, 1), two_classes(20, 2), ratios=(1.0,),
                                      seeds=1, recipe=FAST, device="cpu", progress=False)  # fmt: skip
    augmented.save(tmp_path / "augment")
    assert_reads_back(tmp_path / "augment", {"augment.csv": augmented.table, "augment_summary.csv": augmented.summary})


def test_spectrum_tables_read_back(tmp_path) -> None:
    real, fake = study_sets()
    report = fp.spectrum(real, fake, names=["real", "fake"], device="cpu")
    report.save(tmp_path)
    names = ("radial", "peaks", "comparison", "angular", "subbands", "dct")
    assert_reads_back(tmp_path, {f"{name}.csv": getattr(report, name) for name in names})


def test_attribution_tables_read_back(tmp_path) -> None:
    real, fake = study_sets()
    study = fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, null=False)
    report = fp.attribute(study, real, fake, bands=4, methods=("ablation",), pixel_methods=("gradcam",), n_images=8,
                          device="cpu")  # fmt: skip
    report.save(tmp_path / "attribution")
    assert_reads_back(tmp_path / "attribution", {"bands.csv": report.bands, "sensitivity.csv": report.sensitivity})


@pytest.fixture
def labelled(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(4):
            pixels = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "data" / name / f"{name}{i}-{name}{i}.png")
    return tmp_path / "data"


class Brightness(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = x.mean(dim=(1, 2, 3)) - 0.5
        return torch.stack([score, -score], dim=1)


def brightness() -> torch.nn.Module:
    """A ``module:factory`` for the command line."""
    return Brightness()


def benchmark_inputs(folder: Path) -> list[str]:
    """``benchmark``'s arguments: model-vs-human raw-data folders of humans, and a trial table of models."""
    from test_probe_benchmark import raw_data

    trials = raw_data()
    for dataset in ("low-pass", "contrast"):
        (folder / "raw-data" / dataset).mkdir(parents=True)
        for subj in ("subject-01", "subject-02", "subject-03"):
            own = trials[(trials.distortion == dataset) & (trials.subj == subj)].drop(columns="distortion")
            own.to_csv(folder / "raw-data" / dataset / f"{dataset}_{subj}_session_1.csv", index=False)
    trials[trials.subj.str.startswith("model")].to_csv(folder / "models.csv", index=False)
    return [str(folder / "raw-data"), str(folder / "models.csv")]


def test_probe_and_consistency_tables_read_back(labelled, tmp_path) -> None:
    report = fp.probe({"a": Brightness(), "b": Brightness()}, labelled, distortions=["contrast", "lowpass:0.2"],
                      device="cpu")  # fmt: skip
    report.save(tmp_path / "probe")
    names = ("curves", "trials", "shape_bias", "consistency")
    assert_reads_back(tmp_path / "probe", {f"{name}.csv": getattr(report, name) for name in names})
    again = fp.ProbeReport.from_trials(report.trials, {})
    again.save(tmp_path / "consistency")
    assert_reads_back(tmp_path / "consistency", {f"{name}.csv": getattr(again, name) for name in names})


def test_every_command_writes_tables_that_read_back(labelled, tmp_path, capsys, monkeypatch) -> None:
    """The command line (demo, ablate, spectrum, attribute, probe, consistency, compare, drift,
    augment, run, benchmark, heatmap, limits): every CSV it
    writes reads back by default as it reads as text: no value turns into a missing one,
    and text columns keep their text."""
    monkeypatch.setattr("freqprobe.cli.demo.DEMO_VARIANTS", ("original", "lowpass:0.15"))  # every table, less work
    monkeypatch.setattr("freqprobe.cli.demo.DEMO_BAND_METHODS", ("ablation",))
    demo = tmp_path / "demo"
    assert main(["demo", "--n", "40", "--size", "16", "--seeds", "1", "--device", "cpu", "--out", str(demo)]) == 0
    sets = ["--real", str(demo / "real.npz"), "--fake", str(demo / "generated.npz")]
    label_map = tmp_path / "map.json"
    label_map.write_text('{"cat": [0], "dog": [1]}')
    commands = [
        ["ablate", *sets, "--seeds", "1", "--epochs", "1", "--out", str(tmp_path / "ablate")],
        ["spectrum", *sets, "--out", str(tmp_path / "spectrum")],
        ["attribute", *sets, "--model", str(demo / "ablation"), "--methods", "ablation", "--pixel-methods", "gradcam",
         "--bands", "4", "--n-images", "8",
         "--out", str(tmp_path / "attribute")],
        ["probe", "--model", str(demo / "ablation"), "--data", str(labelled), "--label-map", str(label_map),
         "--distortions", "contrast", "--out", str(tmp_path / "probe")],
    ]  # fmt: skip
    grid = ["--seeds", "1", "--epochs", "1", "--device", "cpu"]
    commands += [
        ["compare", "--set", sets[1], "--set", sets[3], *grid, "--out", str(tmp_path / "compare")],
        ["drift", "--real", sets[1], "--generation", sets[3], *grid, "--out", str(tmp_path / "drift")],
        ["augment", "--real", str(labelled), "--generated", str(labelled), "--test", str(labelled), "--ratios", "1",
         "--seeds", "1", "--device", "cpu", "--out", str(tmp_path / "augment")],
        ["run", str(tmp_path / "study.toml")],
        ["benchmark", *benchmark_inputs(tmp_path / "benchmark-input"), "--out", str(tmp_path / "benchmark")],
        ["heatmap", "--model", "test_tables_roundtrip:brightness", "--data", str(labelled), "--class-names", "cat",
         "dog", "--device", "cpu", "--out", str(tmp_path / "heatmap")],
        ["limits", "--real", sets[1], "--step", "0.25", "--steps", "1", "--detectors", "linear",
         "--out", str(tmp_path / "limits")],
    ]  # fmt: skip
    (tmp_path / "study.toml").write_text(STUDY)
    for argv in commands:
        assert main(argv) == 0, capsys.readouterr().err
    assert main(["consistency", str(tmp_path / "probe" / "trials.csv"), "--out", str(tmp_path / "consistency")]) == 0
    written = [path for path in tmp_path.rglob("*.csv") if "benchmark-input" not in path.parts]  # not ours
    for command in ("benchmark", "heatmap", "limits"):
        assert list((tmp_path / command).glob("*.csv")), command
    assert len(written) >= 20
    for path in written:
        text = pd.read_csv(path, dtype=str, keep_default_na=False)
        back = pd.read_csv(path)
        for column in text.columns:
            lost = back[column].isna() & (text[column] != "")
            assert not lost.any(), f"{path}: {column} = {text[column][lost].iloc[0]!r} reads back as missing"
            if not pd.api.types.is_numeric_dtype(back[column]):
                assert (back[column].fillna("") == text[column]).all(), f"{path}: {column}"
