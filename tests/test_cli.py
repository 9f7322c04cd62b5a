from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.transforms import REGISTRY


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"freqprobe {fp.__version__}"
    done = subprocess.run([sys.executable, "-m", "freqprobe.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout and "info" in done.stdout


def test_demo_writes_sample_batches_summary_and_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--n", "16", "--size", "32"]) == 0
    real, fake = fp.demo_sets(n=16, size=32)
    with np.load(tmp_path / "real.npz") as archive:
        assert archive["arr_0"].dtype == np.uint8 and archive["arr_0"].shape == (16, 32, 32, 3)
    assert torch.equal(fp.load_images(tmp_path / "generated.npz").images, fake.images)
    for name in ["sets.csv", "preview.png", "preview.pdf"]:
        assert (tmp_path / name).stat().st_size > 0
    assert not list(tmp_path.glob(".*partial"))
    assert "generated" in capsys.readouterr().out


def test_info_prints_count_size_and_channel_statistics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = np.zeros((5, 8, 6, 3), dtype=np.uint8)
    images[..., 0] = 255
    np.savez(tmp_path / "samples.npz", arr_0=images)
    assert main(["info", str(tmp_path / "samples.npz")]) == 0
    out = capsys.readouterr().out
    assert "n " in out and " 5" in out
    assert "mean_r " in out and "1.0" in out
    assert "height " in out and " 8" in out


def test_bad_input_exits_2_with_one_line_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert main(["info", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("freqprobe info: error:") and "nowhere" in err and "\n" not in err


def test_transforms_lists_every_registered_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transforms"]) == 0
    listed = {line.split(":")[0].split()[0] for line in capsys.readouterr().out.splitlines()}
    assert listed == set(REGISTRY)


def test_info_counts_pixel_modes_of_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    for i in range(3):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / f"rgb{i}.png")
    Image.new("L", (8, 8), 7).save(tmp_path / "gray.png")
    assert main(["info", str(tmp_path)]) == 0
    assert "L: 1, RGB: 3" in capsys.readouterr().out


def test_demo_with_a_bad_size_or_unwritable_out_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--n", "4", "--size", "33"]) == 2
    assert capsys.readouterr().err.strip().startswith("freqprobe demo: error: demo_sets needs")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "--out", str(blocker / "sub"), "--n", "4", "--size", "16"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("freqprobe demo: error:") and "\n" not in err


def test_warnings_are_printed_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    for i in range(2):
        Image.new("RGBA", (8, 8), (i, 0, 0, 128)).save(tmp_path / f"a{i}.png")
    assert main(["info", str(tmp_path)]) == 0
    warning_lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(warning_lines) == 1 and warning_lines[0].startswith("freqprobe info: warning:") and "alpha" in warning_lines[0]
