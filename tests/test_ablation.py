"""Distribution classification on synthetic sets with known answers."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch

import freqprobe as fp
from freqprobe.ablation import runs
from freqprobe.execution import jobs
from freqprobe.errors import FreqprobeError
from freqprobe.stats import wilson_interval
from freqprobe.training import Recipe

from synthetic import planted_sets

FAST = Recipe(epochs=2, min_steps=80)


def sets(fy: float, fx: float, amplitude: float = 0.06, n: int = 160, seed: int = 0) -> tuple[fp.ImageSet, fp.ImageSet]:
    real, fake = planted_sets(n, 32, fy, fx, amplitude, seed)
    return fp.ImageSet(real, origin="real"), fp.ImageSet(fake, origin="fake")


def at_chance(row: pd.Series) -> bool:
    """Whether chance lies in the 99.9% Wilson interval (a deterministic test should not
    fail on a 1-in-20 draw of the test set)."""
    low, high = wilson_interval(round(row["accuracy"] * row["n_test"]), int(row["n_test"]), 0.999)
    return low <= row["chance"] <= high


def accuracy(result: fp.AblationResult, variant: str, task: str = "binary", mode: str = "retrain") -> pd.Series:
    rows = result.table[(result.table["variant"] == variant) & (result.table["task"] == task) & (result.table["mode"] == mode)]
    return rows.iloc[0]


@pytest.fixture(scope="module")
def high_frequency_study() -> fp.AblationResult:
    real, fake = sets(fy=0.3, fx=0.4)  # radius 0.5
    return fp.ablate(real, fake, ["lowpass:0.25", "highpass:0.25"], seeds=1, recipe=FAST, progress=False)


def test_a_high_frequency_difference_survives_high_pass_and_vanishes_under_low_pass(high_frequency_study) -> None:
    high = accuracy(high_frequency_study, "highpass:0.25")
    low = accuracy(high_frequency_study, "lowpass:0.25")
    assert high["accuracy"] > 0.9 and high["p_value"] < 1e-6
    assert at_chance(low)


def test_a_low_frequency_difference_survives_low_pass_and_vanishes_under_high_pass() -> None:
    real, fake = sets(fy=0.0, fx=1 / 32, amplitude=0.1)
    result = fp.ablate(real, fake, ["lowpass:0.1", "highpass:0.2"], seeds=1, recipe=FAST, progress=False, null=False)
    assert accuracy(result, "lowpass:0.1")["accuracy"] > 0.9
    high = accuracy(result, "highpass:0.2")
    assert at_chance(high)


def test_the_null_control_sits_at_chance(high_frequency_study) -> None:
    null = accuracy(high_frequency_study, "real-vs-real", task="real-vs-real")
    assert at_chance(null)
    assert high_frequency_study.null_ok
    assert null["n_test"] < accuracy(high_frequency_study, "highpass:0.25")["n_test"]  # half the real test set


def test_results_table_has_the_contract_columns(high_frequency_study) -> None:
    table = high_frequency_study.table
    for column in ["variant", "seed", "mode", "n_train", "n_test", "accuracy", "ci_low", "ci_high", "p_value", "auc"]:
        assert column in table.columns
    assert set(table["variant"]) == {"lowpass:0.25", "highpass:0.25", "real-vs-real"}
    binary = table[table["task"] == "binary"]
    assert (binary["n_train"] == 2 * 128).all() and (binary["n_test"] == 2 * 32).all()
    assert ((table["ci_low"] <= table["accuracy"]) & (table["accuracy"] <= table["ci_high"])).all()


def test_same_seed_gives_the_same_numbers() -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=64)
    first = fp.ablate(real, fake, ["patchshuffle:4"], seeds=[3], recipe=FAST, progress=False, null=False)
    second = fp.ablate(real, fake, ["patchshuffle:4"], seeds=[3], recipe=FAST, progress=False, null=False)
    pd.testing.assert_frame_equal(first.table, second.table)


def test_an_interrupted_study_resumes_without_retraining_finished_runs(tmp_path: Path, monkeypatch) -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=64)
    variants = ["original", "lowpass:0.2", "highpass:0.2"]
    first = fp.ablate(real, fake, variants, seeds=1, recipe=FAST, out=tmp_path, progress=False, null=False)
    finished = sorted((tmp_path / "runs").glob("*.json"))
    assert len(finished) == 3 and len(list((tmp_path / "runs").glob("*.pt"))) == 3
    finished[1].unlink()  # as if the study was killed while this run trained
    calls = []
    original_train = jobs.train_classifier
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: calls.append(1) or original_train(*a, **k))
    second = fp.ablate(real, fake, variants, seeds=1, recipe=FAST, out=tmp_path, progress=False)
    assert len(calls) == 2  # the lost run, and the null control added now
    pd.testing.assert_frame_equal(first.table, second.table[second.table["task"] != "real-vs-real"].reset_index(drop=True))
    saved = fp.AblationResult.load(tmp_path)
    assert "real-vs-real" in set(saved.table["variant"])
    pd.testing.assert_frame_equal(saved.table, second.table, check_dtype=False)
    assert (tmp_path / "ablation.png").exists() and (tmp_path / "summary.csv").exists()


def test_probe_mode_trains_once_and_scores_every_variant(monkeypatch) -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=64)
    calls = []
    original_train = jobs.train_classifier
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: calls.append(1) or original_train(*a, **k))
    result = fp.ablate(real, fake, ["original", "lowpass:0.2", "grayscale"], seeds=1, mode="probe", recipe=FAST, progress=False, null=False)
    assert len(calls) == 1
    assert set(result.table["variant"]) == {"original", "lowpass:0.2", "grayscale"}
    assert (result.table["train_variant"] == "original").all() and (result.table["mode"] == "probe").all()


def test_k_way_study_has_confusions_and_pairwise_tasks() -> None:
    real, high = sets(fy=0.3, fx=0.4, n=96)
    _, low = sets(fy=0.0, fx=1 / 32, amplitude=0.08, n=96, seed=5)
    result = fp.ablate(real, [high, low], ["original"], seeds=1, recipe=FAST, progress=False, null=False, names=["real", "hi", "lo"])
    tasks = set(result.table["task"])
    assert tasks == {"kway", "pair:real|hi", "pair:real|lo", "pair:hi|lo"}
    kway = accuracy(result, "original", task="kway")
    assert kway["chance"] == pytest.approx(1 / 3) and kway["accuracy"] > 0.6
    confusion = result.confusion[result.confusion["task"] == "kway"]
    assert len(confusion) == 9 and confusion["count"].sum() == kway["n_test"]
    per_class = result.per_class.set_index("class")["accuracy"]
    assert per_class["hi"] > 0.8 and per_class["lo"] > 0.8  # planted differences, each found
    diagonal = confusion[confusion["true"] == confusion["predicted"]]["count"].sum()
    assert diagonal == round(kway["accuracy"] * kway["n_test"])  # rows are true classes
    pairwise = result.pairwise.set_index(["set_a", "set_b"])["accuracy"]
    assert pairwise[("real", "hi")] > 0.85 and pairwise[("hi", "lo")] > 0.85


def test_a_user_model_from_module_factory_is_trained() -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=64)
    result = fp.ablate(real, fake, ["original"], seeds=1, model="synthetic:tiny_net", recipe=FAST, progress=False, null=False)
    assert result.table["model"].iloc[0] == "synthetic:tiny_net"


def test_saved_weights_load_safely_into_the_trained_classifier(tmp_path: Path) -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=64)
    result = fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, out=tmp_path, progress=False, null=False)
    key = result.table["run"].iloc[0]
    model = runs.RunStore(tmp_path).model(key, torch.device("cpu"))
    x = real.float("cpu")[:4]
    assert model(x).shape == (4, 2)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"variants": ["lowpass:0.9"]}, "outside (0, 0.71]"),
        ({"variants": ["patchshuffle:5"]}, "does not divide 32x32"),
        ({"mode": "sideways"}, "mode must be retrain, probe or both"),
        ({"model": "synthetic:wrong_net"}, "must map (N, 3, H, W) to (N, 2) logits"),
        ({"model": "nosuchmodule:net"}, "cannot import"),
        ({"fakes": []}, "at least one generated set"),
        ({"seeds": 2.5}, "seeds must be a positive count"),
        ({"seeds": 0}, "seeds must be a positive count"),
    ],
)
def test_bad_input_fails_before_any_training(kwargs: dict, fragment: str, monkeypatch) -> None:
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: pytest.fail("trained despite bad input"))
    real, fake = sets(fy=0.3, fx=0.4, n=32)
    arguments = {"real": real, "fakes": fake, "variants": ["original"], "recipe": FAST, "progress": False, **kwargs}
    with pytest.raises(FreqprobeError) as info:
        fp.ablate(**arguments)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_sets_of_different_sizes_or_too_small_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: pytest.fail("trained despite bad input"))
    real, fake = sets(fy=0.3, fx=0.4, n=32)
    with pytest.raises(FreqprobeError, match="differ in size"):
        fp.ablate(real, fp.ImageSet(torch.zeros(32, 3, 16, 16, dtype=torch.uint8)), progress=False)
    with pytest.raises(FreqprobeError, match="need at least 2 on each side"):
        fp.ablate(real[:4], fake[:4], progress=False)


def test_null_control_failure_warns_loudly(monkeypatch) -> None:
    monkeypatch.setattr(fp.AblationResult, "null_ok", property(lambda self: False))
    real, fake = sets(fy=0.3, fx=0.4, n=32)
    with pytest.warns(UserWarning, match="NULL CONTROL FAILED"):
        fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False)


def test_null_ok_tests_above_chance_with_a_bonferroni_correction() -> None:
    def table(accuracies: list[float]) -> fp.AblationResult:
        rows = [{"task": "real-vs-real", "variant": "real-vs-real", "accuracy": a, "n_test": 200, "chance": 0.5} for a in accuracies]
        return fp.AblationResult(pd.DataFrame(rows), pd.DataFrame())

    assert table([0.5, 0.52]).null_ok
    assert not table([0.5, 0.7]).null_ok  # 140/200 is far outside chance
    assert table([0.57] * 5).null_ok  # 114/200: p = 0.028 one-sided, not below 0.05 / 5
    assert not table([0.6]).null_ok  # 120/200 alone: p = 0.0028
    assert table([0.3, 0.5]).null_ok  # below chance is no evidence of leakage


def test_recipe_gives_small_sets_enough_steps() -> None:
    batch, epochs = Recipe(batch_size=256, epochs=6, min_steps=150).schedule(200)
    assert batch == 25 and epochs * 8 >= 150
    assert Recipe().schedule(50_000) == (256, 6)
    assert dataclasses.replace(Recipe(), min_steps=0).schedule(100) == (12, 6)


def test_fitted_transforms_learn_from_training_images_only(monkeypatch) -> None:
    from freqprobe.transforms.phase import PowerEqualize

    fitted: list[PowerEqualize] = []
    original_fit = PowerEqualize.fit
    monkeypatch.setattr(PowerEqualize, "fit", lambda self, images: fitted.append(self) or original_fit(self, images))
    real, fake = sets(fy=0.3, fx=0.4, n=40)
    fp.ablate(real, fake, ["power_equalize"], seeds=1, mode=("retrain", "probe"), recipe=FAST, progress=False, null=False)
    [(real_train, _), (fake_train, _)] = fp.train_test_split(real, fake, test_size=0.2, seed=0)
    train = torch.cat([real.float("cpu")[real_train], fake.float("cpu")[fake_train]]).double()
    expected = torch.fft.rfft2(train).abs().mean(dim=0)
    # once for training (retrain; the network and the linear probe share the filtered training
    # images), and for the probe mode once for scoring the network, once for the linear probe
    assert len(fitted) == 3
    for transform in fitted:
        torch.testing.assert_close(transform._mean_amplitude, expected)


def test_the_network_and_the_linear_probe_share_one_filtering_of_the_training_images(monkeypatch) -> None:
    built: list[str] = []
    original = jobs.FilteredImages

    def counting(data, transform, device):
        built.append(str(transform))
        return original(data, transform, device)

    monkeypatch.setattr(jobs, "FilteredImages", counting)
    real, fake = sets(fy=0.3, fx=0.4, n=40)
    result = fp.ablate(real, fake, ["lowpass:0.2", "highpass:0.2"], seeds=1, recipe=FAST, progress=False, null=False)
    assert built == ["lowpass:0.2", "highpass:0.2"]
    assert result.table["linear_accuracy"].notna().all()


def test_training_views_follow_the_task_itself_not_its_name() -> None:
    from freqprobe.ablation.tasks import build_tasks

    real, fake = sets(fy=0.3, fx=0.4, n=40)
    first = build_tasks({"real": real, "fake": fake}, 0.2, 0, "auto", False, False)[0]
    second = build_tasks({"real": fake, "fake": real}, 0.2, 0, "auto", False, False)[0]  # same name, other images
    views, original = runs.TrainingViews(torch.device("cpu")), fp.transform("original")
    assert first.name == second.name and views.get(first, original) is views.get(first, original)
    torch.testing.assert_close(views.get(second, original).resident[:, :, :, 0], second.train.gather(
        torch.arange(len(second.train)), torch.device("cpu"))[0][:, 0])  # fmt: skip


def test_set_names_may_not_hold_the_pair_separator() -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=40)
    with pytest.raises(FreqprobeError, match="must not contain '\\|'"):
        fp.ablate(real, [fake, fake], ["original"], names=["real", "a|b", "c"], progress=False)


def test_a_stored_model_is_scored_on_new_variants_without_retraining(tmp_path: Path, monkeypatch) -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=48)
    fp.ablate(real, fake, ["original"], seeds=1, mode="probe", recipe=FAST, out=tmp_path, progress=False, null=False)
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: pytest.fail("retrained a stored run"))
    result = fp.ablate(real, fake, ["original", "grayscale"], seeds=1, mode="probe", recipe=FAST, out=tmp_path, progress=False, null=False)
    assert set(result.table["variant"]) == {"original", "grayscale"}


def test_tiny_images_with_a_last_batch_of_one_train() -> None:
    from freqprobe.training.trainer import shuffled_batches

    assert [len(b) for b in shuffled_batches(9, 4, torch.Generator().manual_seed(0))] == [4, 5]
    sets_16 = [fp.ImageSet(t) for t in planted_sets(14, 16, 0.3, 0.4, 0.06)]
    result = fp.ablate(sets_16[0], sets_16[1], ["original"], seeds=1, recipe=Recipe(epochs=1, min_steps=2), progress=False, null=False)
    assert len(result.table) == 1


def test_a_user_model_that_fails_or_misfits_any_task_stops_before_training(monkeypatch) -> None:
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: pytest.fail("trained despite bad model"))
    real, high = sets(fy=0.3, fx=0.4, n=32)
    _, low = sets(fy=0.0, fx=1 / 32, n=32, seed=5)
    with pytest.raises(FreqprobeError, match=r"must map \(N, 3, H, W\) to \(N, \d\) logits"):
        fp.ablate(real, [high, low], model="synthetic:three_logits", recipe=FAST, progress=False)
    with pytest.raises(FreqprobeError, match="failed: no such network"):
        fp.ablate(real, high, model="synthetic:broken_factory", recipe=FAST, progress=False)


def test_a_variant_that_blanks_the_images_warns() -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=32)
    with pytest.warns(UserWarning, match=r"lowpass:0.1\+highpass:0.3 leaves the training images blank"):
        fp.ablate(real, fake, ["lowpass:0.1+highpass:0.3"], seeds=1, recipe=FAST, progress=False, null=False)


def test_the_default_model_is_never_the_null_controls(high_frequency_study) -> None:
    with pytest.raises(FreqprobeError, match="no model trained on 'original'"):
        high_frequency_study.model("original")  # only the null control trained on the originals here
    null_model = high_frequency_study.model("original", task="real-vs-real")
    assert null_model.class_names == ("real/A", "real/B")  # the real set's two halves, by name


def test_missed_by_network_needs_a_linear_probe_that_beats_chance() -> None:
    row = {"task": "binary", "variant": "v", "mode": "retrain", "recipe": "whitened", "seed": 0, "n_test": 120,
           "accuracy": 0.3, "chance": 0.5, "auc": 0.5, "p_value": 1.0, "linear_accuracy": 0.56,
           "linear_ci_low": 0.47, "linear_ci_high": 0.65, "linear_auc": 0.5}  # fmt: skip
    assert fp.AblationResult(pd.DataFrame([row]), pd.DataFrame()).missed_by_network.empty
    row |= {"linear_accuracy": 0.75, "linear_ci_low": 0.66, "linear_ci_high": 0.82}
    assert len(fp.AblationResult(pd.DataFrame([row]), pd.DataFrame()).missed_by_network) == 1


def test_a_resumed_study_logs_stored_runs_as_stored(tmp_path: Path, capsys) -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=32)
    for _ in range(2):
        fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, out=tmp_path, null=False)
    first, second = [line for line in capsys.readouterr().out.splitlines() if line.startswith("binary")]
    assert " s train)" in first and second.endswith("(stored run)")


def test_the_same_images_given_twice_warn() -> None:
    real, _ = sets(fy=0.3, fx=0.4, n=32)
    with pytest.warns(UserWarning, match="sets real and real-2 hold the same images"):
        fp.ablate(real, real, ["original"], seeds=1, recipe=FAST, progress=False, null=False)


def test_copies_of_one_set_in_the_other_warn_and_so_does_an_accuracy_below_chance() -> None:
    real, _ = sets(fy=0.3, fx=0.4, n=160)
    fake = fp.ImageSet(real.images.flip(0), origin="fake")  # the same images in another order
    with pytest.warns(UserWarning) as caught:  # the network alone: it memorises the copies it was trained on
        spatial = dataclasses.replace(FAST, readout=False)
        result = fp.ablate(real, fake, ["original"], seeds=1, recipe=spatial, progress=False, null=False)
    messages = [str(w.message) for w in caught]
    row = accuracy(result, "original")
    leaked = [m for m in messages if "test images have an exact copy among the training images of another" in m]
    assert len(leaked) == 1 and int(leaked[0].split()[0]) > 0.5 * row["n_test"]
    assert row["ci_high"] < 0.5  # a test image's copy was trained under the other label
    assert any(m.startswith("accuracy below chance in 1 of 1 rows, e.g. binary original") for m in messages)


def test_leaked_copies_are_counted_exactly_and_twins_on_one_side_are_not() -> None:
    from freqprobe.ablation.tasks import build_tasks, leaked_copies

    real, fake = sets(fy=0.3, fx=0.4, n=40)
    task = build_tasks({"real": real, "fake": fake}, 0.25, 0, "auto", False, False)[0]
    assert leaked_copies(task) == 0
    test_real = task.test.index[task.test.source == 0][:3]
    copies = fake.images.clone()
    train_fake = task.train.index[task.train.source == 1][:3]
    copies[train_fake] = real.images[test_real]  # three test reals trained as fake
    copies[train_fake[0], 0, 0, 0] ^= 1  # one pixel off: not a copy, even where the hash does not look
    leaky = build_tasks({"real": real, "fake": fp.ImageSet(copies)}, 0.25, 0, "auto", False, False)[0]
    assert torch.equal(leaky.test.index, task.test.index) and leaked_copies(leaky) == 2
    named = [f"crop_{k}.png" for k in range(40)]  # file names: the twins are paired across the sets
    twins = build_tasks({"real": fp.ImageSet(real.images, named), "fake": fp.ImageSet(real.images.clone(), named)},
                        0.25, 0, "auto", False, False)[0]  # fmt: skip
    assert leaked_copies(twins) == 0  # each twin on the side of its original: label noise, not a leak


def test_mode_both_and_the_summary_interval_at_the_mean_accuracy() -> None:
    real, fake = sets(fy=0.3, fx=0.4, n=48)
    result = fp.ablate(real, fake, ["lowpass:0.2"], seeds=2, mode="both", recipe=FAST, progress=False, null=False)
    assert set(result.table["mode"]) == {"retrain", "probe"}
    for row in result.summary.itertuples():
        expected = wilson_interval(row.accuracy * row.n_test, row.n_test)  # the mean count, unrounded
        assert (row.ci_low, row.ci_high) == pytest.approx(expected, abs=1e-12)
    assert wilson_interval(41.5, 80) == pytest.approx((0.41094, 0.62485), abs=1e-5)  # between 41/80 and 42/80


def test_a_rerun_with_fewer_variants_says_which_stored_variants_its_tables_leave_out(tmp_path: Path) -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    options = {"seeds": 1, "null": False, "progress": False, "recipe": "plain", "device": "cpu", "out": tmp_path}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fp.ablate(real, fake, ["original", "lowpass:0.2"], **options)
    with pytest.warns(UserWarning, match=r"stored runs scored on lowpass:0\.2, not among this call's variants"):
        again = fp.ablate(real, fake, ["original"], **options)
    assert set(again.table["variant"]) == {"original"}


def test_an_analysis_refuses_a_folder_that_holds_another_analysis(tmp_path: Path) -> None:
    real, fake = fp.demo_sets(n=40, size=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fp.ablate(real, fake, ["original"], seeds=1, null=False, progress=False, recipe="plain", device="cpu",
                  out=tmp_path)  # fmt: skip
    report = fp.spectrum(real, fake, device="cpu")
    with pytest.raises(FreqprobeError, match=r"holds the results of 'ablate' \(results.csv\); .* --out .*spectrum$"):
        report.save(tmp_path)
    assert not (tmp_path / "radial.csv").exists()
    report.save(tmp_path / "spectrum")  # a folder of its own
    with pytest.raises(FreqprobeError, match="holds the results of 'spectrum'"):
        fp.ablate(real, fake, ["original"], seeds=1, out=tmp_path / "spectrum", device="cpu")


def test_the_summary_averages_the_null_controls_linear_probes_over_its_seeds() -> None:
    """One linear fit serves every seed of a variant; the null control's halves, so its
    linear probe, are new for every seed."""
    real, fake = sets(fy=0.3, fx=0.4, n=96)
    result = fp.ablate(real, fake, ["original"], seeds=3, recipe=FAST, progress=False)
    summary, table = result.summary.set_index("task"), result.table
    for task in ("binary", "real-vs-real"):
        runs = table[table["task"] == task]
        assert summary.loc[task, "linear_accuracy"] == pytest.approx(runs["linear_accuracy"].mean())
        low, high = wilson_interval(runs["linear_accuracy"].mean() * runs["n_test"].iloc[0], int(runs["n_test"].iloc[0]))
        assert (summary.loc[task, "linear_ci_low"], summary.loc[task, "linear_ci_high"]) == pytest.approx((low, high))
    assert table[table["task"] == "binary"]["linear_accuracy"].nunique() == 1
    assert table[table["task"] == "real-vs-real"]["linear_accuracy"].nunique() > 1  # so the mean is tested
