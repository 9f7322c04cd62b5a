"""The audiogram: planted sinusoids, the bisection search, and thresholds against closed form."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import optimize, stats

import freqprobe as fp
from freqprobe.ablation.tasks import Task
from freqprobe.data.demo import demo_photos, random_crops
from freqprobe.errors import FreqprobeError
from freqprobe.limits import Bracket, LinearDetector, DetectionLimits, bracket_threshold, detection_limits, frequency_grid, plant_sinusoid
from freqprobe.stats import wilson_interval
from freqprobe.training import Recipe

SIZE, SIGMA, MEAN = 32, 24.0, 128.0


def white_noise_set(n: int, seed: int = 0) -> fp.ImageSet:
    """Grey white Gaussian images (the same in every channel): the ideal detector is known."""
    grey = MEAN + SIGMA * torch.randn(n, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))
    return fp.ImageSet(grey.round().clamp(0, 255).to(torch.uint8).expand(n, 3, SIZE, SIZE).contiguous())


def energy(x: torch.Tensor, fy: float, fx: float) -> torch.Tensor:
    """``|X(f)|^2`` of the first channel at ``(fy, fx)`` (on the DFT grid)."""
    spectrum = torch.fft.fft2(x[:, 0].double())
    return spectrum[:, round(fy * SIZE) % SIZE, round(fx * SIZE) % SIZE].abs().square()


@dataclasses.dataclass(frozen=True)
class EnergyDetector:
    """The optimal detector of a random-phase sinusoid of known frequency in white Gaussian
    noise: a threshold on the energy of its Fourier coefficient (fitted on the training images)."""

    fy: float
    fx: float

    @property
    def identity(self) -> dict:
        return {"detector": "energy", "fy": self.fy, "fx": self.fx}

    def correct(self, task: Task, seed: int, device: torch.device) -> int:
        [(x, _, y)] = list(task.train.batches(len(task.train), device))
        train = energy(x, self.fy, self.fx)
        order = train.argsort()
        # accuracy of the cut just above the k-th smallest: the 0s below it plus the 1s above it
        below = (y[order] == 0).cumsum(0) + (y[order] == 1).flip(0).cumsum(0).flip(0).roll(-1)
        below[-1] = (y == 0).sum()
        threshold = train[order][int(below.argmax())]
        [(x, _, y)] = list(task.test.batches(len(task.test), device))
        return int(((energy(x, self.fy, self.fx) > threshold) == y.bool()).sum())


def ideal_accuracy(amplitude: float) -> float:
    """Best accuracy of the energy detector: ``|X|^2 / (sigma^2 N^2 / 2)`` is chi-square with
    2 degrees of freedom without the sinusoid, non-central with ``lambda = A^2 N^2 / (2 sigma^2)``
    with it (``N^2`` pixels; rounding to integers adds variance 1/12)."""
    variance = SIGMA**2 + 1 / 12
    noncentrality = amplitude**2 * SIZE**2 / (2 * variance)
    best = optimize.minimize_scalar(lambda t: -(stats.chi2.cdf(t, 2) + stats.ncx2.sf(t, 2, noncentrality)),
                                    bounds=(0, 4 + 2 * noncentrality), method="bounded")  # fmt: skip
    return float(-best.fun / 2)


def ideal_threshold(n_test: int, confidence: float) -> float:
    """The amplitude whose expected accuracy just clears the search's test on ``n_test`` images."""
    needed = next(c for c in range(n_test // 2, n_test + 1) if wilson_interval(c, n_test, confidence)[0] > 0.5)
    return optimize.brentq(lambda a: ideal_accuracy(a) - needed / n_test, 0.01, 20)


def ideal_band(n_test: int, confidence: float, sds: float = 3) -> tuple[float, float]:
    """Amplitudes whose expected accuracy is within ``sds`` binomial sd of the needed one."""
    needed = next(c for c in range(n_test // 2, n_test + 1) if wilson_interval(c, n_test, confidence)[0] > 0.5) / n_test
    sd = math.sqrt(needed * (1 - needed) / n_test)
    return tuple(optimize.brentq(lambda a: ideal_accuracy(a) - p, 1e-3, 20) if p > 0.5 else 0.0
                 for p in (needed - sds * sd, needed + sds * sd))  # fmt: skip


def test_frequency_grid_covers_the_half_plane_without_dc_or_nyquist() -> None:
    assert frequency_grid(0.25) == [(0.25, 0.0), (-0.25, 0.25), (0.0, 0.25), (0.25, 0.25)]
    grid = frequency_grid(0.125)
    assert len(grid) == 3 + 7 * 3 and len(set(grid)) == len(grid)
    assert all(fx > 0 or (fx == 0 and fy > 0) for fy, fx in grid)
    assert max(max(abs(fy), abs(fx)) for fy, fx in grid) == 0.375
    with pytest.raises(FreqprobeError, match="step must be in"):
        frequency_grid(0.5)


def test_a_planted_sinusoid_has_the_amplitude_and_a_random_phase_per_image() -> None:
    flat = torch.full((64, 3, SIZE, SIZE), 100, dtype=torch.uint8)
    planted = plant_sinusoid(flat, 0.25, 0.125, 10.0, seed=3)
    coefficient = torch.fft.fft2(planted[:, 1].double() - 100)[:, 8, 4]  # (0.25, 0.125) c/px on 32 px
    np.testing.assert_allclose(coefficient.abs().numpy(), 10 * SIZE**2 / 2, rtol=0.05)  # rounding: <= 0.5 of 10
    phases = coefficient.angle().numpy()
    assert stats.kstest((phases + np.pi) / (2 * np.pi), "uniform").pvalue > 0.01
    assert torch.equal(planted, plant_sinusoid(flat, 0.25, 0.125, 10.0, seed=3))
    assert not torch.equal(planted, plant_sinusoid(flat, 0.25, 0.125, 10.0, seed=4))
    assert torch.equal(planted[:, 0], planted[:, 2])


def test_a_sinusoid_below_half_a_grey_level_vanishes_from_uint8_images() -> None:
    """The floor of every audiogram of uint8 images: rounding restores each pixel."""
    images = white_noise_set(8).images
    assert torch.equal(plant_sinusoid(images, 0.25, 0.125, 0.49, seed=0), images)
    assert not torch.equal(plant_sinusoid(images, 0.25, 0.125, 0.51, seed=0), images)


def test_bisection_brackets_a_step_to_the_promised_ratio() -> None:
    tried = []
    bracket = bracket_threshold(lambda a: tried.append(a) or a >= 3.0, 0.25, 64.0, steps=4)
    assert bracket.low < 3.0 <= bracket.high
    assert bracket.high / bracket.low == pytest.approx(256 ** (1 / 16))
    assert len(tried) == 6 and bracket.threshold == pytest.approx(math.sqrt(bracket.low * bracket.high))


def test_a_search_reports_open_brackets_at_either_end() -> None:
    assert bracket_threshold(lambda a: False, 1, 8, 3) == Bracket(8, math.inf)
    assert math.isinf(Bracket(8, math.inf).threshold)
    assert bracket_threshold(lambda a: True, 1, 8, 3) == Bracket(0.0, 1)
    assert Bracket(0.0, 1).threshold == 1
    with pytest.raises(FreqprobeError, match="0 < smallest < largest"):
        bracket_threshold(lambda a: True, 8, 1, 3)


def searched(seed: int, frequency: tuple[float, float], detectors: dict, out=None, amplitudes=(0.25, 16.0), steps=4,
             n: int = 1200) -> DetectionLimits:
    return detection_limits(white_noise_set(n, seed), frequencies=[frequency], amplitudes=amplitudes, steps=steps,
                            detectors=detectors, seed=seed, out=out, progress=False)  # fmt: skip


def test_the_search_brackets_the_closed_form_threshold_of_the_ideal_detector() -> None:
    """Near the threshold one test's accuracy is binomial (sd 0.03 at 240 images) and the
    accuracy rises slowly with amplitude: one search lands anywhere in a band of amplitudes
    about 3x wide (3 sd either side). Each bracket overlaps that band, and their centre
    over seeds is the closed-form threshold."""
    found = []
    for seed, frequency in enumerate([(0.25, 0.25), (0.0, 0.125), (-0.125, 0.375)] * 4):
        result = searched(seed, frequency, {"ideal": EnergyDetector(*frequency)})
        n_test, confidence = int(result.evaluations["n_test"].iloc[0]), result.settings["confidence"]
        expected, band = ideal_threshold(n_test, confidence), ideal_band(n_test, confidence)
        row = result.table.iloc[0]
        assert row["threshold_ideal_high"] / row["threshold_ideal_low"] == pytest.approx(64 ** (1 / 16))
        assert row["threshold_ideal_low"] <= band[1] and row["threshold_ideal_high"] >= band[0], (row, band)
        found.append(row["threshold_ideal"])
    assert band[1] < 2 * expected
    assert np.exp(np.mean(np.log(found))) == pytest.approx(expected, rel=0.2)  # 12 searches: sd of the mean 12 %


def test_the_linear_second_opinion_does_not_beat_the_ideal_detector(tmp_path) -> None:
    detectors = {"ideal": EnergyDetector(0.25, 0.25), "linear": LinearDetector()}
    result = searched(0, (0.25, 0.25), detectors, tmp_path, amplitudes=(0.5, 8.0), steps=3)
    row = result.table.iloc[0]
    band = ideal_band(int(result.evaluations["n_test"].iloc[0]), result.settings["confidence"])
    assert row["threshold_linear_high"] >= band[0]
    assert row["threshold_linear"] < 2 * row["threshold_ideal"]  # and it is not far off


# -- the audiogram as a run, from Python and the command line -----------------------------------

QUICK = Recipe(epochs=2, min_steps=16)


@pytest.fixture(scope="module")
def noise_audiogram(tmp_path_factory) -> tuple[fp.ImageSet, DetectionLimits]:
    real = white_noise_set(200)
    out = tmp_path_factory.mktemp("audiogram")
    limits = detection_limits(real, frequencies=[(0.25, 0.25)], amplitudes=(2.0, 64.0), steps=1,
                              detectors=["network"], recipe=QUICK, out=out, progress=False)  # fmt: skip
    return real, limits


def test_an_audiogram_saves_tables_that_read_back_and_a_figure(noise_audiogram) -> None:
    _, limits = noise_audiogram
    folder = limits.folder
    for name in ("limits.csv", "evaluations.csv"):
        table = pd.read_csv(folder / name)
        pd.testing.assert_frame_equal(table, pd.read_csv(folder / name, keep_default_na=False, na_values=[""]))
    assert list(pd.read_csv(folder / "limits.csv").columns) == [
        "fy", "fx", "radius", "threshold_network", "threshold_network_low", "threshold_network_high"]  # fmt: skip
    assert (folder / "limits.png").exists() and (folder / "limits.pdf").exists()
    loaded = DetectionLimits.load(folder)
    pd.testing.assert_frame_equal(loaded.table, limits.table)
    assert loaded.settings["recipe"] == QUICK.label and "DetectionLimits" in repr(loaded)
    assert "<table" in loaded._repr_html_()


def test_a_rerun_resumes_from_the_stored_trainings(noise_audiogram, monkeypatch) -> None:
    real, limits = noise_audiogram
    from freqprobe.execution import jobs, packed

    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: pytest.fail("trained again"))
    monkeypatch.setattr(packed, "train_pack", lambda *a, **k: pytest.fail("trained again"))
    again = detection_limits(real, frequencies=[(0.25, 0.25)], amplitudes=(2.0, 64.0), steps=1, detectors=["network"],
                             recipe=QUICK, out=limits.folder, progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(again.table, limits.table)


def test_an_ablation_at_chance_states_the_detection_limit_of_its_real_set(noise_audiogram, capsys) -> None:
    real, limits = noise_audiogram
    other = white_noise_set(200, seed=9)  # the same distribution: at chance
    result = fp.ablate(real, other, ["original", "lowpass:0.2"], seeds=1, recipe={"quick": QUICK, "whitened": "whitened"},
                       limits=limits.folder, null=False)  # fmt: skip
    table = result.table[result.table["variant"] == "original"].set_index("recipe")
    assert table.loc["quick", "detection_limit"] == limits.limit("network") == limits.table["threshold_network_high"].max()
    assert np.isnan(table.loc["whitened", "detection_limit"])  # another recipe than the audiogram's
    printed = capsys.readouterr().out
    assert f"no difference above {limits.limit('network'):.3g} grey levels" in printed
    assert "(quick, retrain) is at chance" in printed and "(whitened" not in printed
    lines = [line for line in printed.splitlines() if "(quick, retrain) is at chance" in line]
    filtered = [line for line in lines if "lowpass:0.2 (quick" in line]
    assert filtered and all("for lowpass:0.2 it holds only at those of these frequencies it keeps" in x for x in filtered)
    assert all("it keeps" not in line for line in lines if " original (quick" in line)


def test_an_audiogram_of_another_set_states_nothing(noise_audiogram) -> None:
    _, limits = noise_audiogram
    with pytest.warns(UserWarning, match="not of this real set"):
        result = fp.ablate(white_noise_set(120, 5), white_noise_set(120, 6), ["original"], seeds=1, recipe=QUICK,
                           limits=limits, null=False, progress=False)  # fmt: skip
    assert "detection_limit" not in result.table


def test_an_audiogram_of_another_freqprobe_version_states_nothing(noise_audiogram) -> None:
    """0.3 added the spectral read-out to the default recipe: an older audiogram of "whitened"
    measured another network under the same label."""
    real, limits = noise_audiogram
    older = DetectionLimits(limits.table, limits.evaluations, {**limits.settings, "version": "0.2.0"})
    with pytest.warns(UserWarning, match="freqprobe 0.2.0"):
        result = fp.ablate(real, white_noise_set(200, seed=9), ["original"], seeds=1, recipe=QUICK, limits=older,
                           null=False, progress=False)  # fmt: skip
    assert "detection_limit" not in result.table


def test_limits_command_writes_the_audiogram_and_rejects_bad_input(tmp_path, capsys) -> None:
    from freqprobe.cli import main
    from freqprobe.io import write_samples_npz

    write_samples_npz(white_noise_set(60).numpy(), tmp_path / "real.npz")
    args = ["limits", "--real", str(tmp_path / "real.npz"), "--step", "0.25", "--steps", "1", "--detectors", "linear"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    assert len(pd.read_csv(tmp_path / "run" / "limits.csv")) == 4
    assert main([*args, "--out", str(tmp_path / "real.npz")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert main(["limits", "--real", str(tmp_path / "real.npz"), "--step", "0.6", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "step must be in (0, 0.5)" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_an_audiogram_in_the_run_folder_is_found_without_being_named(noise_audiogram, tmp_path) -> None:
    import shutil

    real, limits = noise_audiogram
    shutil.copytree(limits.folder, tmp_path / "limits")
    result = fp.ablate(real, white_noise_set(200, seed=9), ["original"], seeds=1, recipe=QUICK, out=tmp_path,
                       null=False, progress=False)  # fmt: skip
    saved = pd.read_csv(tmp_path / "results.csv")
    assert saved["detection_limit"].iloc[0] == result.table["detection_limit"].iloc[0] == limits.limit("network")


def test_a_wrong_limits_folder_fails_before_any_training(tmp_path, monkeypatch) -> None:
    from freqprobe.execution import jobs

    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: pytest.fail("trained before --limits was read"))
    real, fake = fp.demo_sets(n=40, size=16)
    with pytest.raises(FreqprobeError):
        fp.ablate(real, fake, ["original"], seeds=1, limits=tmp_path / "no-such-audiogram", device="cpu",
                  progress=False)  # fmt: skip


def test_a_sinusoids_threshold_never_lies_below_what_uint8_images_can_carry() -> None:
    """Amplitudes under 0.5 grey levels round away at every pixel (the planting test above):
    a bracket [0.25, 0.84] becomes [0.5, 0.84]; noise, which can move pixels at any RMS, keeps its own."""
    from freqprobe.limits.kinds import PROBES

    floored = PROBES["sinusoid"].floored(Bracket(0.25, 0.841))
    assert floored == Bracket(0.5, 0.841) and floored.threshold == pytest.approx(math.sqrt(0.5 * 0.841))
    assert PROBES["sinusoid"].floored(Bracket(0.55, 0.6)) == Bracket(0.55, 0.6)
    assert PROBES["noise"].floored(Bracket(0.25, 0.841)) == Bracket(0.25, 0.841)
    real = white_noise_set(120)
    limits = detection_limits(real, frequencies=[(0.25, 0.25)], amplitudes=(0.25, 64.0), steps=1, detectors=["linear"],
                              progress=False)  # fmt: skip
    assert (limits.table["threshold_linear_low"] >= 0.5).all() or (limits.table["threshold_linear_low"] == 0).all()
