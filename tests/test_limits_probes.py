"""The audiogram's other probes (noise band, colour cast, JPEG) and its lock-step, packed rounds."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

import freqprobe as fp
from freqprobe.errors import FreqprobeError
from freqprobe.execution import local
from freqprobe.execution.packed import train_pack
from freqprobe.limits import (
    DetectionLimits,
    LinearDetector,
    detection_limits,
    noise_band_mask,
    plant_colour_cast,
    plant_jpeg,
    plant_noise_band,
)
from freqprobe.limits.kinds import PROBES
from freqprobe.limits.rounds import Planting, PlantedSetsExecutor, Search
from freqprobe.limits.store import evaluation_key
from freqprobe.training import Recipe

SIZE = 32
QUICK = Recipe(epochs=2, min_steps=16)


def white_noise_set(n: int, seed: int = 0) -> fp.ImageSet:
    grey = 128 + 24 * torch.randn(n, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))
    return fp.ImageSet(grey.round().clamp(0, 255).to(torch.uint8).expand(n, 3, SIZE, SIZE).contiguous())


def flat(n: int, value: int = 128) -> torch.Tensor:
    return torch.full((n, 3, SIZE, SIZE), value, dtype=torch.uint8)


# -- the noise band ------------------------------------------------------------------------------


def test_the_noise_band_mask_is_the_grid_cell_and_its_mirror() -> None:
    """(0.25, 0.125) with step 0.125 on 32 px: fy in [0.1875, 0.3125) -> bins 6..9, fx in
    [0.0625, 0.1875) -> bins 2..5; the mirror -f: bins -6..-9 and -2..-5."""
    expected = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    expected[6:10, 2:6] = True
    expected[23:27, 27:31] = True
    assert torch.equal(noise_band_mask((SIZE, SIZE), 0.25, 0.125, 0.125), expected)
    assert not noise_band_mask((SIZE, SIZE), 0.125, 0.0, 0.25)[0, 0]  # DC never: it would shift the mean


def test_a_noise_band_has_the_rms_and_its_power_only_inside_the_cell() -> None:
    images = flat(256)
    planted = plant_noise_band(images, 0.25, 0.125, 0.125, 20.0, seed=1)
    difference = planted.double() - 128
    # 16 independent complex bins an image (sd of one image's power 25 %), 256 images: sd 1.6 %
    assert difference.square().mean().sqrt().item() == pytest.approx(20.0, rel=0.05)
    power = torch.fft.fft2(difference[:, 0]).abs().square().sum(0)
    mask = noise_band_mask((SIZE, SIZE), 0.25, 0.125, 0.125)
    assert power[~mask].sum() / power.sum() < 1e-3  # outside: only the rounding to uint8 (variance 1/12)
    assert (power[mask] > 0.1 * power[mask].mean()).all()  # the cell is filled, every bin of it
    assert torch.equal(planted[:, 0], planted[:, 2]) and not torch.equal(planted[0], planted[1])  # luminance, fresh
    assert torch.equal(planted, plant_noise_band(images, 0.25, 0.125, 0.125, 20.0, seed=1))
    weaker = plant_noise_band(images, 0.25, 0.125, 0.125, 10.0, seed=1).double() - 128
    assert (2 * weaker - difference).abs().max() <= 1.0  # the same noise at every strength (up to rounding)


def test_a_noise_band_without_a_frequency_bin_is_refused() -> None:
    with pytest.raises(FreqprobeError, match="holds no frequency"):
        plant_noise_band(flat(2, 100)[:, :, :4, :4], 0.125, 0.125, 0.1, 1.0, seed=0)  # bins at 0, 0.25, -0.5, -0.25


# -- the colour cast and JPEG --------------------------------------------------------------------


def test_a_colour_cast_shifts_red_and_blue_by_the_amount_and_keeps_luminance() -> None:
    images = torch.randint(40, 200, (8, 3, SIZE, SIZE), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    cast = plant_colour_cast(images, 7)
    shift = (cast.double() - images.double()).mean(dim=(0, 2, 3))
    assert shift.tolist() == [7.0, 0.0, -7.0]
    assert torch.equal(cast.int().sum(1), images.int().sum(1))  # the channel mean, pixel by pixel


def test_jpeg_at_a_quality_is_opencvs_own_encode_and_decode() -> None:
    images = torch.randint(0, 256, (3, 3, SIZE, SIZE), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    for quality in (30, 90):
        planted = plant_jpeg(images, quality)
        for image, got in zip(images, planted):
            bgr = cv2.cvtColor(image.permute(1, 2, 0).numpy(), cv2.COLOR_RGB2BGR)
            ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
            expected = cv2.cvtColor(cv2.imdecode(buffer, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            assert ok and np.array_equal(got.permute(1, 2, 0).numpy(), expected)
        assert not torch.equal(planted, images)


# -- searches of each probe ----------------------------------------------------------------------


@pytest.mark.parametrize("probe", ["noise", "colour", "jpeg"])
def test_each_probe_search_finds_a_detectable_level_with_the_linear_detector(probe, tmp_path) -> None:
    limits = detection_limits(white_noise_set(200), probe=probe, frequencies=[(0.25, 0.25)], steps=2,
                              detectors=["linear"], out=tmp_path, progress=False)  # fmt: skip
    row = limits.table.iloc[0]
    if probe == "jpeg":
        assert list(limits.table.columns) == ["quality_linear", "quality_linear_missed"]
        assert 10 <= row["quality_linear"] < 100  # a quality detected, within the searched 99..10
        assert list(limits.evaluations.columns)[:2] == ["detector", "quality"]
        assert "linear detects quality" in limits.describe()
    else:
        assert math.isfinite(row["threshold_linear"]) and row["threshold_linear_high"] <= PROBES[probe].strengths[1]
        assert ("fy" in limits.table) == (probe == "noise")
    for name in ("limits.csv", "evaluations.csv"):  # plain read_csv gives the table back
        table = pd.read_csv(tmp_path / name)
        pd.testing.assert_frame_equal(table, pd.read_csv(tmp_path / name, keep_default_na=False, na_values=[""]))
    loaded = DetectionLimits.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.table, limits.table)
    assert loaded.settings["probe"] == probe and loaded.probe == probe
    assert (tmp_path / "limits.png").exists() and (tmp_path / "limits.pdf").exists()
    with pytest.raises(FreqprobeError, match=f"holds a {probe} audiogram"):  # not overwritten by another probe's
        detection_limits(white_noise_set(200), out=tmp_path, progress=False)


def test_whole_strength_probes_test_only_whole_numbers() -> None:
    limits = detection_limits(white_noise_set(60), probe="colour", amplitudes=(1, 9), steps=4,
                              detectors=["linear"], progress=False)  # fmt: skip
    assert (limits.evaluations["amplitude"] == limits.evaluations["amplitude"].round()).all()
    assert limits.table["threshold_linear"].iloc[0] == limits.table["threshold_linear_high"].iloc[0]  # none between
    with pytest.raises(FreqprobeError, match="whole strengths"):
        detection_limits(white_noise_set(60), probe="colour", amplitudes=(0.5, 8), progress=False)
    with pytest.raises(FreqprobeError, match="unknown probe"):
        detection_limits(white_noise_set(60), probe="blur", progress=False)


def test_the_sinusoid_key_is_the_one_before_probes_existed() -> None:
    """Run folders made before probes existed resume: the key hashes the same fields."""
    planting = Planting(None, None, PROBES["sinusoid"], 0.125, 3, 1, 0.2, "abc")
    search = Search((0.25, 0.125), "linear", None, strength=2.0)
    before = {**LinearDetector().identity, "data": "abc", "split_seed": 1, "test_size": 0.2, "seed": 3,
              "probe": "sinusoid", "fy": 0.25, "fx": 0.125, "amplitude": 2.0}  # fmt: skip
    assert planting.key(LinearDetector(), search) == evaluation_key(before)
    noise = Planting(None, None, PROBES["noise"], 0.125, 3, 1, 0.2, "abc")
    assert noise.key(LinearDetector(), search) != evaluation_key(before)


def test_an_ablation_states_no_limit_from_another_probes_audiogram(tmp_path) -> None:
    real = white_noise_set(60)
    limits = detection_limits(real, probe="colour", steps=1, detectors=["linear"], out=tmp_path / "limits",
                              progress=False)  # fmt: skip
    with pytest.warns(UserWarning, match="plants colour, not a sinusoid"):
        result = fp.ablate(real, white_noise_set(60, 9), ["original"], seeds=1, recipe=QUICK, limits=limits,
                           null=False, progress=False)  # fmt: skip
    assert "detection_limit" not in result.table


# -- lock-step rounds, packed --------------------------------------------------------------------


class RecordingExecutor(PlantedSetsExecutor):
    """Records the size of each round handed to it, and of each pack trained."""

    def __init__(self, pack: bool) -> None:
        super().__init__(torch.device("cpu"), pack=pack)
        self.rounds: list[int] = []

    def run(self, jobs):
        self.rounds.append(len(jobs))
        yield from super().run(jobs)


def test_packed_and_sequential_audiograms_give_identical_tables(tmp_path, monkeypatch) -> None:
    real = white_noise_set(120)
    packs: list[int] = []
    monkeypatch.setattr(local, "train_pack", lambda jobs, *a, **k: packs.append(len(jobs)) or train_pack(jobs, *a, **k))
    runs = {}
    for pack in (False, True):
        runner = RecordingExecutor(pack)
        runs[pack] = detection_limits(real, frequencies=[(0.25, 0.25), (0.0, 0.375)], amplitudes=(2.0, 32.0), steps=1,
                                      detectors=["network"], recipe=QUICK, executor=runner, out=tmp_path / str(pack),
                                      progress=False)  # fmt: skip
        assert runner.rounds[:2] == [2, 2]  # both searches' next strength in one round
    assert packs and max(packs) == 2  # the packed run trained the two planted sets together
    pd.testing.assert_frame_equal(runs[True].table, runs[False].table)
    pd.testing.assert_frame_equal(runs[True].evaluations, runs[False].evaluations)
    stored = {p: sorted(path.name for path in (tmp_path / str(p) / "evaluations").iterdir()) for p in runs}
    assert stored[True] == stored[False]  # the same keys: either run folder resumes the other


def test_limits_command_takes_a_probe_and_packing(tmp_path, capsys) -> None:
    from freqprobe.cli import main
    from freqprobe.io import write_samples_npz

    write_samples_npz(white_noise_set(60).numpy(), tmp_path / "real.npz")
    args = ["limits", "--real", str(tmp_path / "real.npz"), "--steps", "1", "--detectors", "linear", "--pack", "yes"]
    assert main([*args, "--probe", "jpeg", "--out", str(tmp_path / "run")]) == 0
    assert list(pd.read_csv(tmp_path / "run" / "limits.csv").columns) == ["quality_linear", "quality_linear_missed"]
    assert "JPEG re-encoding" in capsys.readouterr().out
    assert main([*args, "--probe", "blur", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown probe 'blur'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_an_audiogram_on_ray_gives_the_local_table(ray_session, tmp_path) -> None:
    """A Ray worker trains with one torch thread: so does the local run compared with it."""
    real = white_noise_set(120)
    kwargs = dict(frequencies=[(0.25, 0.25), (0.0, 0.375)], amplitudes=(2.0, 32.0), steps=0, detectors=["network"],
                  recipe=QUICK, device="cpu", progress=False)  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here = detection_limits(real, **kwargs)
    finally:
        torch.set_num_threads(threads)
    on_ray = detection_limits(real, executor="ray", out=tmp_path, **kwargs)
    pd.testing.assert_frame_equal(on_ray.table, here.table)
    pd.testing.assert_frame_equal(on_ray.evaluations, here.evaluations)
    assert all("1 thread" in json.loads(path.read_text())["trained_on"] for path in (tmp_path / "evaluations").iterdir())


def test_a_folder_trained_under_two_settings_says_so(tmp_path) -> None:
    real = white_noise_set(60)
    kwargs = dict(frequencies=[(0.25, 0.25)], amplitudes=(2.0, 32.0), steps=0, detectors=["network"], recipe=QUICK,
                  out=tmp_path, progress=False)  # fmt: skip
    detection_limits(real, **kwargs)
    first = next((tmp_path / "evaluations").iterdir())
    record = json.loads(first.read_text())
    first.write_text(json.dumps({**record, "trained_on": "cuda (a GPU), bf16 autocast"}))
    with pytest.warns(UserWarning, match="trained under different settings"):
        detection_limits(real, **kwargs)
