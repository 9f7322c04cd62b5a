"""``fp.probe`` and the ``probe`` / ``consistency`` commands on planted cues with known answers."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib import pyplot as plt
from PIL import Image
from torch import nn

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.errors import DataError, FreqprobeError
from freqprobe.probe.decisions import IMAGENET16, make_decider

SIZE = 32
CLASSES = ("bird", "cat")
CHECKER = torch.tensor((np.indices((SIZE, SIZE)).sum(0) % 2) * 2 - 1, dtype=torch.float32)
LAYOUT = torch.tensor(np.where(np.arange(SIZE) < SIZE // 2, 1.0, -1.0), dtype=torch.float32).expand(SIZE, SIZE)
WAVE = torch.tensor(np.cos(2 * np.pi * np.arange(SIZE) / SIZE), dtype=torch.float32).expand(SIZE, SIZE)


class CueReader(nn.Module):
    """Scores bird by the correlation with one pattern, cat by its negative."""

    def __init__(self, pattern: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("pattern", pattern)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = ((x.mean(1) - x.mean(dim=(1, 2, 3))[:, None, None]) * self.pattern).mean(dim=(1, 2))
        return torch.stack([score, -score], dim=1)


def cue_image(shape: int, texture: int) -> np.ndarray:
    """Shape: which half is bright (bird: left); texture: the checkerboard's phase (bird: +)."""
    sign = lambda k: 1.0 if k == 0 else -1.0  # noqa: E731
    image = 0.5 + 0.2 * sign(shape) * LAYOUT + 0.1 * sign(texture) * CHECKER
    return (image.numpy()[..., None].repeat(3, axis=2) * 255).round().astype(np.uint8)


@pytest.fixture
def cue_conflict(tmp_path):
    """``shape/<shape><i>-<texture><i>.png``: 3 images per (shape, texture) pair."""
    for s, shape in enumerate(CLASSES):
        (tmp_path / shape).mkdir()
        for t, texture in enumerate(CLASSES):
            for i in (1, 2, 3):
                Image.fromarray(cue_image(s, t)).save(tmp_path / shape / f"{shape}{i}-{texture}{i}.png")
    return tmp_path


def test_a_texture_reader_has_shape_bias_zero_and_a_shape_reader_one(cue_conflict) -> None:
    report = fp.probe({"shape": CueReader(LAYOUT), "texture": CueReader(CHECKER)}, cue_conflict, device="cpu")
    overall = report.shape_bias[report.shape_bias["class"] == "all"].set_index("observer")
    assert overall.loc["shape", "shape_bias"] == 1.0 and overall.loc["texture", "shape_bias"] == 0.0
    assert overall.loc["shape", "n_conflict"] == 6  # 12 images, the 6 with shape == texture dropped
    assert set(report.trials["imagename"]) >= {"bird/bird1-cat1.png", "cat/cat3-cat3.png"}
    # on the conflicting images one reader is always right where the other is wrong
    pooled = report.consistency.iloc[0]
    assert pooled["accuracy_a"] == 1.0 and pooled["accuracy_b"] == 0.5 and np.isnan(pooled["kappa"])
    assert repr(report).startswith("ProbeReport: observers shape, texture; 24 trials") and "<table" in report._repr_html_()


def planted_wave_set(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    """Classes differ only in the sign of the lowest horizontal frequency (1/32 cycles/px)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    sign = torch.tensor(1.0 - 2.0 * labels, dtype=torch.float32)[:, None, None, None]
    noise = torch.tensor(rng.normal(0, 0.03, (n, 1, SIZE, SIZE)), dtype=torch.float32)
    return (0.5 + 0.2 * sign * WAVE + noise).clamp(0, 1).expand(-1, 3, -1, -1), labels, list(CLASSES)


def test_a_low_frequency_model_keeps_its_accuracy_under_low_pass_and_loses_it_under_high_pass() -> None:
    report = fp.probe(CueReader(WAVE), planted_wave_set(), distortions=["original", "lowpass:0.1", "highpass:0.1"],
                      device="cpu")  # fmt: skip
    curves = report.curves.set_index("condition")
    assert curves.loc["original", "accuracy"] == 1.0 and curves.loc["lowpass:0.1", "accuracy"] == 1.0
    high = curves.loc["highpass:0.1"]  # the cue is gone: chance, up to float round-off in the score's sign
    assert high["accuracy"] < 0.75 and high["ci_low"] < 0.5 < high["ci_high"]


def test_curves_have_wilson_intervals_and_follow_the_sweep_order() -> None:
    distortions = ["contrast:100,10", "low-pass:0,3"]
    report = fp.probe(CueReader(WAVE), planted_wave_set(), distortions=distortions, device="cpu")
    assert list(report.curves["condition"]) == ["original", "c100", "c10", "0", "3"]  # the baseline always first
    assert list(report.curves["level"]) == [0.0, 100.0, 10.0, 0.0, 3.0]
    row = report.curves.iloc[1]
    assert (row["n_trials"], row["n_correct"]) == (40, 40)
    # Wilson, 40 of 40: (1 + z^2/80 - z sqrt(z^2/6400)) / (1 + z^2/40) = 1 / (1 + z^2/40), z = 1.96
    assert row["ci_low"] == pytest.approx(1 / (1 + 1.959964**2 / 40)) and row["ci_high"] == 1.0
    assert len(report.trials) == 5 * 40 and report.settings["chance"] == 0.5


def test_decisions_do_not_depend_on_the_batch_size() -> None:
    data = planted_wave_set()
    distortions = ["uniform-noise:0.9", "phase-scrambling:150"]
    one = fp.probe(CueReader(WAVE), data, distortions=distortions, batch_size=7, device="cpu")
    two = fp.probe(CueReader(WAVE), data, distortions=distortions, batch_size=40, device="cpu")
    pd.testing.assert_frame_equal(one.trials, two.trials)
    distorted = one.curves[one.curves["distortion"] != "original"]
    assert (distorted["accuracy"] < 1).all()  # the noise decides some answers, so it must repeat


def test_the_seed_decides_the_random_distortions() -> None:
    data = planted_wave_set()
    one, two = (fp.probe(CueReader(WAVE), data, distortions="phase-scrambling:150", seed=s, device="cpu")
                for s in (0, 1))  # fmt: skip
    assert not one.trials["object_response"].equals(two.trials["object_response"])


class Writer(nn.Module):
    """Scores like ``CueReader(WAVE)``, but in train mode its batch norm learns running
    statistics and it zeroes its input in place: nothing a probe may let happen."""

    def __init__(self) -> None:
        super().__init__()
        self.reader, self.norm = CueReader(WAVE), nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.reader(x) + 0 * self.norm(x).mean()
        x.zero_()
        return scores


def test_the_probe_changes_no_model_and_no_model_changes_the_images_of_another() -> None:
    writer = Writer().train()
    before = {name: value.clone() for name, value in writer.state_dict().items()}
    report = fp.probe({"writer": writer, "reader": CueReader(WAVE)}, planted_wave_set(), device="cpu")
    for name, value in writer.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert (report.curves["accuracy"] == 1.0).all()


def test_two_images_with_one_image_id_are_refused_before_any_model_runs() -> None:
    images, labels, classes = planted_wave_set(n=4)
    images = (images * 255).round().to(torch.uint8)
    names = ["bird/a_1.png", "cat/a_1.png", "bird/b_1.png", "cat/b_2.png"]  # bird: two ids "1.png"
    calls = []
    model = lambda x: calls.append(len(x)) or torch.zeros(len(x), 2)  # noqa: E731
    with pytest.raises(DataError, match="images bird/a_1.png and bird/b_1.png have one image id '1.png'"):
        fp.probe(model, (fp.ImageSet(images, names, "test"), labels, classes), device="cpu")
    assert calls == []


def test_curve_ticks_name_each_condition_when_observers_saw_different_conditions() -> None:
    from freqprobe.figures.probe import plot_curves
    from freqprobe.probe.curves import curves_table

    human = trials_of("human", ["lowpass:0.2"], "lowpass")
    model = trials_of("model", ["lowpass:0.1", "lowpass:0.2", "lowpass:0.3"], "lowpass")
    fig = plot_curves(curves_table(pd.concat([human, model], ignore_index=True)))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0.2", "0.1", "0.3"]
    plt.close(fig)


def trials_of(subj: str, conditions: list[str], distortion: str) -> pd.DataFrame:
    return pd.DataFrame([(subj, distortion, c, f"cat/{k}.png", "cat", "cat") for c in conditions for k in range(3)],
                        columns=["subj", "distortion", "condition", "imagename", "category", "object_response"])


def test_a_label_map_averages_probabilities_over_each_class_outputs() -> None:
    decider = make_decider(["bird", "cat"], label_map={"bird": [0, 1], "cat": [2]})
    # bird's mean probability 0.3 loses to cat's 0.4, then 0.4 beats 0.2
    logits = torch.log(torch.tensor([[0.3, 0.3, 0.4], [0.7, 0.1, 0.2]]))
    assert decider.decide(logits).tolist() == [1, 0]
    imagenet = make_decider(["dog", "cat"], label_map="imagenet16")
    assert len(imagenet.class_names) == 16 and sum(len(g) for g in IMAGENET16.values()) == 207
    logits = torch.zeros(1, 1000)
    logits[0, 281] = 5.0  # tabby cat
    assert imagenet.class_names[imagenet.decide(logits).item()] == "cat"


def test_model_outputs_that_do_not_fit_the_classes_are_one_line_errors() -> None:
    data = planted_wave_set(n=4)
    with pytest.raises(FreqprobeError, match="gives 3 outputs for 2 classes"):
        fp.probe(lambda x: torch.zeros(len(x), 3), data, device="cpu")
    with pytest.raises(FreqprobeError, match="the label map uses output 7, but model model gives 2"):
        fp.probe(CueReader(WAVE), data, label_map={"bird": [0], "cat": [7]}, device="cpu")
    with pytest.raises(FreqprobeError, match="the label map do not cover the data's class 'cat'"):
        fp.probe(CueReader(WAVE), data, label_map={"bird": [0], "dog": [1]}, device="cpu")
    with pytest.raises(FreqprobeError, match="give distortions or a preset, not both"):
        fp.probe(CueReader(WAVE), data, distortions="contrast", preset="model-vs-human", device="cpu")


def test_a_folder_without_class_sub_folders_and_unknown_texture_classes_are_refused(tmp_path) -> None:
    Image.fromarray(cue_image(0, 0)).save(tmp_path / "bird1-bird1.png")
    with pytest.raises(DataError, match="one sub-folder per class; 'bird1-bird1.png' is at the top level"):
        fp.probe(CueReader(WAVE), tmp_path, device="cpu")
    for shape in CLASSES:
        (tmp_path / shape).mkdir()
        Image.fromarray(cue_image(0, 1)).save(tmp_path / shape / f"{shape}1-zebra1.png")
    (tmp_path / "bird1-bird1.png").unlink()
    with pytest.raises(DataError, match="texture class 'zebra' is not a known class"):
        fp.probe(CueReader(WAVE), tmp_path, device="cpu")


def test_the_run_folder_round_trips_and_redraws(cue_conflict, tmp_path) -> None:
    report = fp.probe([CueReader(LAYOUT), CueReader(CHECKER)], cue_conflict, names=["shape", "texture"],
                      distortions=["contrast:100,30"], device="cpu")  # fmt: skip
    out = tmp_path / "run"
    report.save(out)
    for name in ("curves.csv", "trials.csv", "shape_bias.csv", "consistency.csv", "settings.json", "probe.png",
                 "probe.pdf", "shape_bias.png", "consistency.png"):  # fmt: skip
        assert (out / name).is_file(), name
    loaded = fp.ProbeReport.load(out)
    pd.testing.assert_frame_equal(loaded.curves, report.curves)
    pd.testing.assert_frame_equal(loaded.trials, report.trials)
    pd.testing.assert_frame_equal(loaded.shape_bias, report.shape_bias, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.consistency, report.consistency, check_dtype=False)
    assert json.loads((out / "settings.json").read_text())["observers"] == ["shape", "texture"]


def test_the_probe_command_writes_a_run_folder_and_consistency_reads_its_trials(cue_conflict, tmp_path, capsys) -> None:
    weights = tmp_path / "reader.pt"
    torch.save(CueReader(LAYOUT).state_dict(), weights)
    out = tmp_path / "probe"
    code = main(["probe", "--model", "test_probe_run:layout_reader", "--weights", str(weights), "--name", "layout",
                 "--data", str(cue_conflict), "--distortions", "contrast:100,30", "--device", "cpu",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    assert "shape bias of layout (contrast c100): 1.000" in capsys.readouterr().out
    human = pd.read_csv(out / "trials.csv").assign(subj="subject-01")
    human["imagename"] = [f"{k:04d}_cl_s01_{name.split('/')[-1]}" for k, name in enumerate(human["imagename"])]
    human.to_csv(tmp_path / "human.csv", index=False)
    code = main(["consistency", str(out / "trials.csv"), str(tmp_path / "human.csv"), "--out", str(tmp_path / "c")])
    assert code == 0
    table = pd.read_csv(tmp_path / "c" / "consistency.csv")
    contrast = table[table["distortion"] == "contrast"]
    assert list(contrast["condition"]) == ["c100", "c30", "all"] and (table["observed"] == 1.0).all()


def test_commands_fail_with_one_line_reasons(tmp_path, capsys) -> None:
    assert main(["probe", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == "freqprobe probe: error: --model is required"
    assert main(["consistency", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "none.csv: no such file" in capsys.readouterr().err
    two_models = ["probe", "--model", "a:f", "--model", "b.ts", "--weights", "w.pt", "--data", str(tmp_path),
                  "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(two_models) == 2
    assert "1 --weights for 2 --model (give '-' for none)" in capsys.readouterr().err
    assert main(["probe", "--list"]) == 0
    assert "uniform-noise" in capsys.readouterr().out


def test_false_colour_reads_the_users_monitor_gamma_and_the_run_records_it(cue_conflict, tmp_path, capsys) -> None:
    table = (np.arange(256) / 255) ** 2.2
    report = fp.probe(CueReader(LAYOUT), cue_conflict, distortions=["false-colour:False"], monitor_gamma=table,
                      device="cpu")  # fmt: skip
    assert report.settings["monitor_gamma"] == table.tolist()
    default = fp.probe(CueReader(LAYOUT), cue_conflict, distortions=["false-colour:False"], device="cpu")
    assert default.settings["monitor_gamma"] == "sRGB (IEC 61966-2-1)"
    np.save(tmp_path / "bad.npy", table[::-1])
    bad = ["probe", "--model", "never:loaded", "--data", str(cue_conflict), "--distortions", "false-colour",
           "--monitor-gamma", str(tmp_path / "bad.npy"), "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(bad) == 2  # before any model loads
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"freqprobe probe: error: monitor gamma '.*bad.npy' is not increasing \(entry 1 .*\)", err)
    assert not (tmp_path / "o").exists()


def layout_reader() -> nn.Module:
    """A ``module:factory`` for the command-line test (weights loaded from a file)."""
    return CueReader(torch.zeros(SIZE, SIZE))


def test_data_without_labels_and_empty_class_folders_are_named_in_one_line_errors(tmp_path) -> None:
    images = planted_wave_set(n=4)[0]
    np.savez(tmp_path / "real.npz", arr_0=(images.permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8))
    with pytest.raises(DataError, match="real.npz: an .npz file carries no labels; probe data must be a folder "
                                        "with one sub-folder per class"):  # fmt: skip
        fp.probe(CueReader(WAVE), tmp_path / "real.npz", device="cpu")
    with pytest.raises(DataError, match="an in-memory Tensor carries no labels"):
        fp.probe(CueReader(WAVE), images, device="cpu")
    (tmp_path / "pe" / "bird").mkdir(parents=True)
    (tmp_path / "pe" / "cat").mkdir()
    Image.fromarray(cue_image(0, 0)).save(tmp_path / "pe" / "bird" / "1.png")
    with pytest.raises(DataError, match="pe/cat: class folder without images"):
        fp.probe(CueReader(WAVE), tmp_path / "pe", device="cpu")


def test_nan_scores_are_counted_in_one_warning() -> None:
    def half_nan(x: torch.Tensor) -> torch.Tensor:
        scores = torch.zeros(len(x), 2)
        scores[::2] = float("nan")
        return scores

    with pytest.warns(UserWarning, match="model model gave NaN \\(or tied infinite\\) scores on 40 of 80 trials") as w:
        fp.probe(half_nan, planted_wave_set(), distortions=["original", "contrast:50"], batch_size=16, device="cpu")
    assert len([r for r in w if "NaN" in str(r.message)]) == 1
    minus_inf = lambda x: torch.full((len(x), 2), -torch.inf).index_fill(1, torch.tensor([0]), 0.0)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one class at -inf (a likelihood of 0) is a decision, not a warning
        fp.probe(minus_inf, planted_wave_set(n=4), device="cpu")


def test_the_probe_gives_a_model_back_in_the_mode_it_came_in() -> None:
    model = nn.Sequential(CueReader(WAVE), nn.BatchNorm1d(2), nn.Dropout(0.0)).train()
    model[2].eval()  # mixed flags come back as they were
    fp.probe(model, planted_wave_set(n=4), device="cpu")
    assert model.training and model[0].training and model[1].training and not model[2].training
    # it ran in eval mode: a BatchNorm in training mode would have moved its running statistics
    assert model[1].num_batches_tracked == 0 and torch.equal(model[1].running_mean, torch.zeros(2))


def test_the_consistency_command_refuses_malformed_tables_in_one_line(tmp_path, capsys) -> None:
    header = "subj,imagename,category,object_response\n"
    tables = {
        "empty.csv": ("", "empty.csv: empty file; a trial table needs columns subj, imagename"),
        "columns.csv": ("a,b\n1,2\n", "columns.csv: missing column 'subj'"),
        "header.csv": (header, "header.csv: no trials"),
        "ragged.csv": (header + "h,a.png,cat,cat\nh,b.png,cat,dog,x,y\n", "ragged.csv: not a CSV trial table"),
        "twice.csv": (header + "h,1_a.png,cat,cat\nh,2_a.png,cat,dog\n",
                      "observer h has image cat/a.png twice in condition 'all' \\(1_a.png and 2_a.png have one"),
    }  # fmt: skip
    for name, (text, message) in tables.items():
        (tmp_path / name).write_text(text)
        assert main(["consistency", str(tmp_path / name), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and re.search(message, err), (name, err)
    Image.fromarray(cue_image(0, 0)).save(tmp_path / "x.png")
    assert main(["consistency", str(tmp_path / "x.png"), "--out", str(tmp_path / "o")]) == 2
    assert "x.png: not a CSV trial table" in capsys.readouterr().err
    assert not (tmp_path / "o" / "curves.csv").exists()


def test_one_observer_with_an_image_twice_is_refused_and_empty_answers_are_counted(tmp_path) -> None:
    twice = pd.DataFrame({"subj": "h", "imagename": ["0001_x_a.png", "0002_x_a.png"], "category": "cat",
                          "object_response": "cat"})  # fmt: skip
    with pytest.raises(DataError, match="observer h has image cat/a.png twice in condition 'all'"):
        fp.ProbeReport.from_trials(_read(twice))
    blank = pd.DataFrame({"subj": "h", "imagename": ["a.png", "b.png", "c.png"], "category": "cat",
                          "object_response": ["cat", "", None]})  # fmt: skip
    with pytest.warns(UserWarning, match="2 of 3 trials have an empty object_response; they count as wrong"):
        trials = _read(blank)
    assert fp.ProbeReport.from_trials(trials).curves["accuracy"].iloc[0] == pytest.approx(1 / 3)


def _read(table: pd.DataFrame) -> pd.DataFrame:
    from freqprobe.probe import read_trials

    return read_trials(table)
