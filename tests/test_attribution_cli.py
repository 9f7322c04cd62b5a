"""``freqprobe attribute``: run folders from a study, a user model with safe weights, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.cli import main

QUICK = ["--bands", "4", "--methods", "ablation", "--n-images", "8", "--device", "cpu"]


def user_net() -> nn.Module:
    """A user's classifier, for ``module:factory`` (called with no arguments)."""
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))


@pytest.fixture(scope="module")
def npz_sets(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("sets")
    real, fake = fp.demo_sets(n=40, size=16)
    for name, images in (("real", real), ("fake", fake)):
        np.savez(folder / f"{name}.npz", arr_0=images.numpy())
    return str(folder / "real.npz"), str(folder / "fake.npz")


def test_without_a_model_it_trains_one_and_attributes_held_out_images(
    tmp_path: Path, npz_sets, capsys: pytest.CaptureFixture[str]
) -> None:
    real, fake = npz_sets
    out = tmp_path / "run"
    args = ["attribute", "--real", real, "--fake", fake, "--out", str(out), *QUICK, "--pixel-methods", "gradcam"]
    assert main(args) == 0
    bands = pd.read_csv(out / "bands.csv")
    assert bands[["f_lo", "f_hi", "importance", "ci_low", "ci_high", "rank"]].notna().all().all() and len(bands) == 12
    assert (out / "attribution.png").exists() and (out / "pixels_gradcam.png").exists()
    assert (out / "model" / "results.csv").exists()
    printed = capsys.readouterr().out
    assert "training a FastNet" in printed and "held-out test images (8 real, 8 fake)" in printed


def test_a_module_factory_with_weights_loads_them_safely(tmp_path: Path, npz_sets) -> None:
    real, fake = npz_sets
    torch.manual_seed(3)
    trained = user_net()
    torch.save(trained.state_dict(), tmp_path / "weights.pt")
    model = ["--model", "test_attribution_cli:user_net", "--weights", str(tmp_path / "weights.pt")]
    args = ["attribute", "--real", real, "--fake", fake, *model, "--pixel-methods", "--target", "margin"]
    args += ["--out", str(tmp_path / "run")]
    assert main([*args, *QUICK]) == 0
    report = fp.AttributionReport.load(tmp_path / "run")
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": [], "target": "margin", "n_images": 8}
    expected = fp.attribute(trained, real, fake, device="cpu", **options)
    pd.testing.assert_frame_equal(report.table, expected.table, check_dtype=False)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--edges", "0", "0.9"], "edge 0.9 is outside the spectrum"),
        (["--target", "7"], "--target 7 is out of range"),
        (["--model", "nowhere:net"], "cannot import net from nowhere"),
        (["--no-model", "--edges", "0.3", "0.2"], "edges must increase strictly"),
        (["--no-model", "--target", "2"], "--target 2 is out of range"),
        (["--no-model", "--classes", "0", "2"], "fake class=2 is out of range"),
        (["--no-model", "--methods", "lime"], "argument --methods: invalid choice: 'lime'"),
        (["--no-model", "--variant", "power_equalize"], "a transform fitted on a set cannot be attributed"),
        (["--no-model", "--variant", "repr:dct8", "--pixel-methods", "gradcam"], "gradcam: the model reads repr:dct8"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, npz_sets, capsys: pytest.CaptureFixture[str], extra: list[str], reason: str
) -> None:
    real, fake = npz_sets
    model = [] if "--model" in extra else ["--model", "test_attribution_cli:user_net"]
    if "--no-model" in extra:  # nothing may be trained before the error
        model, extra = [], [e for e in extra if e != "--no-model"]
    try:
        code = main(["attribute", "--real", real, "--fake", fake, "--out", str(tmp_path / "run"), *model, *QUICK, *extra])
    except SystemExit as exited:  # a usage error (argparse's choices)
        code = exited.code
    err = capsys.readouterr().err
    assert code == 2 and reason in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()  # no model trained, no table written


def three_outputs() -> nn.Module:
    """A user's classifier with 3 logits."""
    torch.manual_seed(2)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def test_a_model_with_three_outputs_needs_classes(tmp_path: Path, npz_sets, capsys: pytest.CaptureFixture[str]) -> None:
    real, fake = npz_sets
    args = ["attribute", "--real", real, "--fake", fake, "--model", "test_attribution_cli:three_outputs", *QUICK]
    args += ["--pixel-methods"]
    assert main([*args, "--out", str(tmp_path / "refused")]) == 2
    err = capsys.readouterr().err
    assert "the model gives 3 logits" in err and "--classes REAL FAKE" in err and err.count("\n") == 1
    assert not (tmp_path / "refused").exists()
    assert main([*args, "--out", str(tmp_path / "run"), "--classes", "2", "0"]) == 0
    report = fp.AttributionReport.load(tmp_path / "run")
    assert report.settings["classes"] == [2, 0]
    options = {"bands": 4, "methods": ["ablation"], "pixel_methods": [], "n_images": 8, "device": "cpu"}
    expected = fp.attribute(three_outputs(), real, fake, classes=(2, 0), **options)
    pd.testing.assert_frame_equal(report.table, expected.table, check_dtype=False)
    assert main([*args, "--out", str(tmp_path / "bad"), "--classes", "0", "3"]) == 2
    assert "fake class=3 is out of range" in capsys.readouterr().err


def test_the_study_sets_swapped_exit_2_with_one_line(
    tmp_path: Path, npz_sets, capsys: pytest.CaptureFixture[str]
) -> None:
    real, fake = npz_sets
    study = tmp_path / "study"
    fp.ablate(fp.load_images(real), fp.load_images(fake), ["original"], seeds=1, null=False, progress=False,
              out=study, device="cpu")  # fmt: skip
    args = ["attribute", "--real", fake, "--fake", real, "--model", str(study), *QUICK, "--pixel-methods"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "swapped" in err and "--real" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_the_demo_adds_a_band_attribution_of_its_model(tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path), "--n", "40", "--size", "16", "--seeds", "1", "--device", "cpu"]) == 0
    for name in ["bands.csv", "attribution.png", "attribution.pdf", "pixels_gradcam.png"]:
        assert (tmp_path / "attribution" / name).stat().st_size > 0, name
    report = fp.AttributionReport.load(tmp_path / "attribution")
    assert report.settings["images"].startswith("the study's held-out test images") and report.settings["model"]
    assert set(report.table["method"]) == {"ablation", "ig"}
