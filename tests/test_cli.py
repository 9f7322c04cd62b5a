from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import freqprobe as fp
from freqprobe.cli import build_parser, main
from freqprobe.transforms import REGISTRY


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"freqprobe {fp.__version__}"
    done = subprocess.run([sys.executable, "-m", "freqprobe.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout and "info" in done.stdout


def test_demo_writes_the_sets_and_runs_a_small_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from freqprobe.cli.demo import DEMO_VARIANTS

    assert main(["demo", "--out", str(tmp_path), "--n", "40", "--size", "16", "--seeds", "1"]) == 0
    real, fake = fp.demo_sets(n=40, size=16)
    with np.load(tmp_path / "real.npz") as archive:
        assert archive["arr_0"].dtype == np.uint8 and archive["arr_0"].shape == (40, 16, 16, 3)
    assert torch.equal(fp.load_images(tmp_path / "generated.npz").images, fake.images)
    for name in ["sets.csv", "preview.png", "ablation/results.csv", "ablation/ablation.png", "spectrum/peaks.csv",
                 "report.html"]:
        assert (tmp_path / name).stat().st_size > 0
    results = pd.read_csv(tmp_path / "ablation" / "results.csv")
    assert set(results["variant"]) == {*DEMO_VARIANTS, "real-vs-real"}
    assert not list(tmp_path.rglob(".*partial"))
    assert "generated" in capsys.readouterr().out


def info(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, str], str]:
    """Run ``freqprobe info PATH``: the printed series as ``{field: value}``, and stderr."""
    assert main(["info", str(path)]) == 0
    out, err = capsys.readouterr()
    return dict(line.split(maxsplit=1) for line in out.splitlines()), err


def test_info_prints_count_size_and_channel_statistics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = np.zeros((5, 8, 6, 3), dtype=np.uint8)
    images[..., 0] = 255
    np.savez(tmp_path / "samples.npz", arr_0=images)
    row, _ = info(tmp_path / "samples.npz", capsys)
    assert row["origin"] == str(tmp_path / "samples.npz") and row["modes"] == "uint8 array"
    assert (int(row["n"]), int(row["height"]), int(row["width"])) == (5, 8, 6)
    assert (float(row["mean_r"]), float(row["mean_g"]), float(row["std_r"])) == (1.0, 0.0, 0.0)


def test_info_names_the_stored_dtype_of_an_array_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "floats.npy", np.full((2, 4, 4, 3), 0.5, dtype=np.float32))
    assert info(tmp_path / "floats.npy", capsys)[0]["modes"] == "float array, rounded to uint8"
    np.savez(tmp_path / "rgba.npz", np.zeros((2, 5, 6, 4), dtype=np.uint16))
    row, err = info(tmp_path / "rgba.npz", capsys)
    assert row["modes"] == "uint16 array, scaled to uint8 (v >> 8), alpha dropped"
    warning = f"{tmp_path / 'rgba.npz'}: dropped the alpha channel of 2 images (e.g. 0, 1)"
    assert err == f"freqprobe info: warning: {warning}\n"


def test_info_gives_the_pil_mode_of_a_single_image_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    Image.new("L", (6, 4), 51).save(tmp_path / "gray.png")
    row, _ = info(tmp_path / "gray.png", capsys)
    assert row["modes"] == "L: 1" and (int(row["n"]), float(row["mean_b"])) == (1, 0.2)


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
    assert info(tmp_path, capsys)[0]["modes"] == "L: 1, RGB: 3"


def test_demo_with_a_bad_size_or_unwritable_out_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--n", "4", "--size", "33", "--seeds", "1"]) == 2
    assert capsys.readouterr().err.strip().startswith("freqprobe demo: error: demo_sets needs")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "--out", str(blocker / "sub"), "--n", "40", "--size", "16", "--seeds", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("freqprobe demo: error:") and "\n" not in err


def test_warnings_are_printed_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    for i in range(2):
        Image.new("RGBA", (8, 8), (i, 0, 0, 128)).save(tmp_path / f"a{i}.png")
    assert main(["info", str(tmp_path)]) == 0
    warning_lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(warning_lines) == 1 and warning_lines[0].startswith("freqprobe info: warning:") and "alpha" in warning_lines[0]


def test_ablate_writes_the_run_folder_of_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from synthetic import planted_sets

    real, fake = planted_sets(48, 16, 0.3, 0.4, 0.06)
    np.savez(tmp_path / "real.npz", arr_0=real.permute(0, 2, 3, 1).numpy())
    np.savez(tmp_path / "gan.npz", arr_0=fake.permute(0, 2, 3, 1).numpy())
    out = tmp_path / "study"
    argv = ["ablate", "--real", str(tmp_path / "real.npz"), "--fake", str(tmp_path / "gan.npz"),
            "--variants", "original", "lowpass:0.2", "--seeds", "1", "--epochs", "1",
            "--recipe", "whitened", "plain", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    results = pd.read_csv(out / "results.csv")
    assert {"variant", "seed", "mode", "n_train", "n_test", "accuracy", "ci_low", "ci_high", "p_value"} <= set(results)
    assert set(results["variant"]) == {"original", "lowpass:0.2", "real-vs-real"}
    assert sorted(results["recipe"].value_counts().items()) == [("plain,epochs=1", 3), ("whitened,epochs=1", 3)]
    assert results["linear_accuracy"].between(0, 1).all()
    for name in ["summary.csv", "ablation.png", "ablation.pdf"]:
        assert (out / name).exists()
    assert "wrote" in capsys.readouterr().out


def test_ablate_with_a_bad_variant_exits_2_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = np.zeros((20, 16, 16, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", arr_0=images)
    np.savez(tmp_path / "b.npz", arr_0=images)
    argv = ["ablate", "--real", str(tmp_path / "a.npz"), "--fake", str(tmp_path / "b.npz"),
            "--variants", "lowpass:2", "--out", str(tmp_path / "x")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("freqprobe ablate: error: lowpass:2") and "\n" not in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["ablate", "--real", "a", "--fake", "b", "--mode", "sideways", "--out", "o"], "argument --mode: invalid choice"),
        (["ablate", "--real", "a", "--fake", "b", "--size", "16y", "--out", "o"], "size must be S or HxW"),
        (["attribute", "--real", "a", "--fake", "b", "--size", "0", "--out", "o"], "size must be S or HxW"),
        (["probe", "--data", "d", "--size", "16x", "--out", "o"], "size must be S or HxW"),
        (["bogus"], "invalid choice: 'bogus'"),
    ],
)
def test_usage_errors_are_one_line_too(argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and reason in err and "\n" not in err and err.endswith("--help)")


@pytest.mark.parametrize(
    "argv",
    [
        ["ablate", "--real", "a", "--fake", "b", "--out", "o"],
        ["spectrum", "--real", "a", "--fake", "b", "--out", "o"],
        ["attribute", "--real", "a", "--fake", "b", "--out", "o"],
        ["probe", "--data", "d", "--out", "o"],
        ["info", "a"],
    ],
)
def test_every_size_option_takes_s_or_hxw(argv: list[str]) -> None:
    parser = build_parser()
    assert parser.parse_args([*argv, "--size", "24x32"]).size == (24, 32)
    assert parser.parse_args([*argv, "--size", "24"]).size == 24


def test_an_out_that_is_a_file_and_a_bad_recipe_exit_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "a.npz", arr_0=np.zeros((20, 16, 16, 3), dtype=np.uint8))
    a = str(tmp_path / "a.npz")
    assert main(["ablate", "--real", a, "--fake", a, "--out", a]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert main(["ablate", "--real", a, "--fake", a, "--epochs", "0", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "invalid recipe" in err and "\n" not in err and not (tmp_path / "x").exists()


@pytest.mark.parametrize(("flag", "paired"), [("auto", "auto"), ("yes", True), ("no", False)])
def test_ablate_paired_flag_reaches_the_split(flag: str, paired, tmp_path: Path, monkeypatch) -> None:
    import freqprobe.ablation

    seen = {}

    def fake_ablate(*args, **kwargs):
        seen.update(kwargs)
        raise fp.errors.FreqprobeError("stop")

    monkeypatch.setattr(freqprobe.ablation, "ablate", fake_ablate)
    np.savez(tmp_path / "a.npz", arr_0=np.zeros((20, 16, 16, 3), dtype=np.uint8))
    a = str(tmp_path / "a.npz")
    assert main(["ablate", "--real", a, "--fake", a, "--paired", flag, "--out", str(tmp_path / "x")]) == 2
    assert seen["paired"] == paired


@pytest.mark.parametrize(("flag", "pack"), [("auto", False), ("yes", True), ("no", False)])  # auto: off on a CPU
def test_ablate_pack_flag_reaches_the_executor(flag: str, pack: bool, tmp_path: Path, monkeypatch) -> None:
    import freqprobe.ablation

    seen = {}

    def fake_ablate(*args, **kwargs):
        seen.update(kwargs)
        raise fp.errors.FreqprobeError("stop")

    monkeypatch.setattr(freqprobe.ablation, "ablate", fake_ablate)
    np.savez(tmp_path / "a.npz", arr_0=np.zeros((20, 16, 16, 3), dtype=np.uint8))
    a = str(tmp_path / "a.npz")
    assert main(["ablate", "--real", a, "--fake", a, "--device", "cpu", "--pack", flag, "--out", str(tmp_path / "x")]) == 2
    assert seen["executor"].pack is pack
