"""``freqprobe spectrum``: the run folder, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.data.naming import default_set_names


def write_npz(images: fp.ImageSet, path: Path) -> str:
    np.savez(path, arr_0=images.numpy())
    return str(path)


def test_spectrum_writes_the_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real, generated = fp.demo_sets(n=64, size=32)
    real_path, fake_path = write_npz(real, tmp_path / "real.npz"), write_npz(generated, tmp_path / "gen.npz")
    out = str(tmp_path / "run")
    assert main(["spectrum", "--real", real_path, "--fake", fake_path, "--out", out, "--device", "cpu"]) == 0
    for name in ["radial.csv", "peaks.csv", "spectra.png", "spectra.pdf", "maps.npz"]:
        assert (tmp_path / "run" / name).stat().st_size > 0
    radial = pd.read_csv(tmp_path / "run" / "radial.csv")
    assert radial.columns[:3].tolist() == ["set", "f", "power"] and set(radial["set"]) == {"real", "gen"}
    peaks = pd.read_csv(tmp_path / "run" / "peaks.csv")
    assert (peaks["set"] == "gen").all() and {(0.0, 0.5), (0.5, 0.0)} <= set(zip(peaks["fy"], peaks["fx"]))
    assert "gen: " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "reason"),
    [(["--denoiser", "bm3d"], "argument --denoiser: invalid choice: 'bm3d'"), (["--size", "16", "--fake", "MISSING"], "no such file")],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], reason: str
) -> None:
    real, _ = fp.demo_sets(n=8, size=16)
    path = write_npz(real, tmp_path / "real.npz")
    missing = str(tmp_path / "nowhere")
    extra = [missing if e == "MISSING" else e for e in extra]
    try:
        code = main(["spectrum", "--real", path, "--fake", path, *extra, "--out", str(tmp_path / "run")])
    except SystemExit as exited:  # a usage error (argparse's choices)
        code = exited.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("freqprobe spectrum: error:") and reason in err and "\n" not in err
    assert not (tmp_path / "run" / "radial.csv").exists()


def test_sets_are_named_after_their_files_and_made_unique(tmp_path: Path) -> None:
    blank = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    origins = ["b/samples.npz", "c/samples.npz", "d/gan", "array", "x/a|b.npz", "demo(n=1):generated"]
    fakes = [fp.ImageSet(blank, origin=origin) for origin in origins]
    expected = ["real", "samples", "samples-2", "gan", "fake4", "a-b", "generated"]
    assert default_set_names(fp.ImageSet(blank), fakes) == expected
    real, generated = fp.demo_sets(n=16, size=16)
    path = write_npz(generated, tmp_path / "gen_v2.npz")
    assert fp.spectrum(real, path, device="cpu").names == ["real", "gen_v2"]  # as fp.ablate names it
    assert fp.spectrum(real, generated.images, device="cpu").names == ["real", "fake"]


def test_peak_options_and_an_hxw_size_reach_fp_spectrum(tmp_path: Path) -> None:
    real, generated = fp.demo_sets(n=16, size=40)
    real_path, fake_path = write_npz(real, tmp_path / "real.npz"), write_npz(generated, tmp_path / "gen.npz")
    out = tmp_path / "run"
    argv = ["spectrum", "--real", real_path, "--fake", fake_path, "--out", str(out), "--max-peaks", "1",
            "--min-score", "3", "--size", "32x40", "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    settings = json.loads((out / "settings.json").read_text())
    assert (settings["height"], settings["width"], settings["max_peaks"], settings["min_score"]) == (32, 40, 1, 3.0)
    assert pd.read_csv(out / "peaks.csv").groupby("set").size().max() == 1
