"""Study files: parsed and checked before any work, run into one folder, resumed, redrawn."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from freqprobe.cli import main
from freqprobe.errors import FreqprobeError
from freqprobe.experiments.studies import read_study, run_study

STUDY = """
out = "run"
figures = "figs"
device = "cpu"

[sets]
real = { demo = "real", n = 48, size = 16, seed = 0 }
generated = { demo = "generated", n = 48, size = 16, seed = 0 }
twice = { demo = "generated", n = 48, size = 16, seed = 1 }

[analyses.spectrum]
sets = ["real", "generated"]
export = { spectra = "demo_spectra" }

[analyses.ablation]
kind = "ablate"
fakes = ["generated"]
seeds = 1
recipe = { epochs = 2, min_steps = 30 }
progress = false
export = ["ablation"]

[analyses.matrix]
kind = "compare"
seeds = 1
recipe = { epochs = 2, min_steps = 30 }
progress = false

[analyses.probe]
model = "ablation"
data = { real = "real", generated = "generated" }
distortions = ["original", "lowpass:0.1"]
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("study")
    (folder / "study.toml").write_text(STUDY)
    run_study(folder / "study.toml", progress=False)
    return folder


def test_every_analysis_lands_in_its_own_subfolder_and_figures_are_exported(finished: Path) -> None:
    run = finished / "run"
    assert (run / "spectrum" / "radial.csv").is_file() and (run / "spectrum" / "spectra.png").is_file()
    assert (run / "ablation" / "results.csv").is_file()
    matrix = pd.read_csv(run / "matrix" / "matrix.csv")
    assert len(matrix[matrix["variant"] == "original"]) == 3  # three sets, three pairs
    assert (finished / "figs" / "demo_spectra.png").is_file() and (finished / "figs" / "ablation.pdf").is_file()
    curves = pd.read_csv(run / "probe" / "curves.csv")
    assert set(curves["model"]) == {"seed 0"}  # the ablate analysis's model, probed on a class = set table


def test_a_finished_study_runs_again_without_training_and_redraws_its_figures(finished: Path, monkeypatch) -> None:
    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr("freqprobe.execution.jobs.train_classifier", no_training)
    figure = finished / "run" / "matrix" / "matrix.png"
    figure.unlink()
    results = run_study(finished / "study.toml", progress=False)
    assert figure.is_file() and list(results) == ["spectrum", "ablation", "matrix", "probe"]
    assert main(["run", str(finished / "study.toml"), "--redraw", "--only", "ablation"]) == 0


def test_changed_options_run_the_analysis_again(finished: Path) -> None:
    (finished / "changed.toml").write_text(STUDY.replace('sets = ["real", "generated"]', 'sets = ["real", "twice"]'))
    results = run_study(finished / "changed.toml", only=["spectrum"], progress=False)
    assert list(results["spectrum"].radial["set"].unique()) == ["real", "twice"]


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (("[analyses.spectrum]", "[analyses.spectrum]\nkind = 'histogram'"), "unknown kind 'histogram'"),
        (('sets = ["real", "generated"]', 'sets = ["real", "nosuch"]'), "names no set 'nosuch'"),
        (("seeds = 1\nrecipe", "seedz = 1\nrecipe"), "unknown option 'seedz' for ablate"),
        (('kind = "compare"', 'kind = "compare"\nmode = "probe"'), "unknown option 'mode' for compare"),
        (('out = "run"', 'out = "run"\ncolour = "red"'), "unknown top-level key 'colour'"),
        (("[analyses.matrix]", "[analyses.drift]\nreal = 'real'\n[analyses.matrix]"), "drift needs generations"),
        (("[analyses.matrix]", "[analyses.a]\nkind = 'attribute'\nmodel = 'matrix'\nreal = 'real'\nfake = 'generated'"
          "\n[analyses.matrix]"), "must be an ablate analysis listed before it"),
        (("= { demo", "= ["), "not valid TOML"),
        (('device = "cpu"', 'device = "cpu"\nsize = "big"'), "size must be S, 'HxW' or"),
        (('real = { demo = "real"', 'real = { demo = "fake"'), "set real must be a path or a table"),
    ],
)
def test_a_bad_study_file_is_refused_before_any_work(tmp_path: Path, edit, fragment: str) -> None:
    (tmp_path / "bad.toml").write_text(STUDY.replace(*edit, 1))
    with pytest.raises(FreqprobeError, match=fragment):
        read_study(tmp_path / "bad.toml")


def test_the_command_line_reports_a_bad_study_in_one_line(tmp_path: Path, capsys) -> None:
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_redraw_of_an_unfinished_analysis_says_so(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(STUDY)
    with pytest.raises(FreqprobeError, match="has not finished"):
        run_study(tmp_path / "s.toml", only=["spectrum"], redraw=True, progress=False)


def test_the_shipped_study_files_parse() -> None:
    for path in sorted(Path(__file__).parent.parent.joinpath("analyses").glob("*.toml")):
        assert read_study(path).analyses
