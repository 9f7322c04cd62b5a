"""The benchmark's aggregates against a re-implementation of model-vs-human's own loops."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.errors import DataError
from freqprobe.probe.benchmark import EXCLUDED_CONDITIONS, BenchmarkReport, is_excluded

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from bench_kappa import synthetic_trials  # noqa: E402

LEVELS = {"low-pass": ["0", "1", "3", "5", "7", "10", "15", "40"], "contrast": ["c100", "c50", "c30", "c15"],
          "sketch": ["0"]}  # fmt: skip


def raw_data(seed: int = 0) -> pd.DataFrame:
    """3 humans and 2 models on two parametric datasets and one pooled one."""
    parts = []
    for k, (dataset, levels) in enumerate(LEVELS.items()):
        table = synthetic_trials(observers=5, conditions=len(levels), images=24, seed=seed + k)
        table["condition"] = table["condition"].map(dict(zip(map(str, range(len(levels))), levels)))
        table["subj"] = table["subj"].replace({"subject-04": "model-a", "subject-05": "model-b"})
        parts.append(table.assign(distortion=dataset))
    return pd.concat(parts, ignore_index=True)


def reference_summary(df: pd.DataFrame) -> pd.DataFrame:
    """model-vs-human's get_raw_benchmark_df + format_benchmark_df + get_mean_over_datasets, loop for loop."""

    def accuracy(frame):
        return len(frame.loc[frame.object_response == frame.category]) / len(frame)

    def consistency(df1, df2):
        p1, p2 = accuracy(df1), accuracy(df2)
        expected = p1 * p2 + (1 - p1) * (1 - p2)
        df1 = df1.sort_values(by="imagename").reset_index()
        df2 = df2.sort_values(by="imagename").reset_index()
        observed = ((df1.object_response == df1.category) == (df2.object_response == df2.category)).sum() / len(df1)
        kappa = 1.0 if observed == 1.0 else (observed - expected) / (1.0 - expected)
        return {"accuracy difference": (p1 - p2) ** 2, "observed consistency": observed, "error consistency": kappa}

    def get_short_imagename(imagename):  # model-vs-human's helper/plotting_helper.py
        splits = imagename.split("_")
        if len(splits) > 1:
            name = splits[-2:]
            return name[0] + "_" + name[1] if name[0].startswith("n0") else name[1]
        return splits[0]

    df = df.copy()
    df["imagename"] = df["imagename"].apply(get_short_imagename)
    rows = []
    for dataset in df.distortion.unique():
        d = df[df.distortion == dataset]
        humans = [s for s in d.subj.unique() if s.startswith("subject-")]  # decision makers of this dataset's data
        models = [s for s in d.subj.unique() if not s.startswith("subject-")]
        conditions = [c for c in d.condition.unique() if c not in EXCLUDED_CONDITIONS.get(dataset, ())]
        conditions = [None] if dataset == "sketch" else conditions
        for group, is_same in ((models, False), (humans, True)):
            for i, g1 in enumerate(group):
                for condition in conditions:
                    for j, g2 in enumerate(humans):
                        if (is_same and j <= i) or g1 == g2:
                            continue
                        df1, df2 = d[d.subj == g1], d[d.subj == g2]
                        if condition is not None:
                            df1, df2 = df1[df1.condition == condition], df2[df2.condition == condition]
                        for metric, value in consistency(df1, df2).items():
                            rows.append({"model": g1, "human": g2, "dataset": dataset, "metric": metric,
                                         "condition": condition, "value": value})  # fmt: skip
    raw = pd.DataFrame(rows)
    is_human = raw["model"].str.startswith("subject-")
    dfh = raw[is_human].groupby(["model", "human", "dataset", "metric"], as_index=False)["value"].mean()
    dfh = dfh.groupby(["dataset", "metric"], as_index=False)["value"].mean().groupby("metric")["value"].mean()
    dfm = raw[~is_human].groupby(["model", "human", "dataset", "metric"], as_index=False)["value"].mean()
    dfm = dfm.groupby(["model", "dataset", "metric"], as_index=False)["value"].mean()
    dfm = dfm.groupby(["model", "metric"], as_index=False)["value"].mean()
    table = dfm.pivot(index="model", columns="metric", values="value")
    table.loc["humans"] = dfh
    ood = {}
    humans = [s for s in df.subj.unique() if s.startswith("subject-")]
    models = [s for s in df.subj.unique() if not s.startswith("subject-")]
    for name, members in [*((m, [m]) for m in models), ("humans", humans)]:
        values = []
        for dataset in df.distortion.unique():
            d = df[(df.distortion == dataset) & df.subj.isin(members)]
            if len(d):
                values.append(accuracy(d[~d.condition.isin(EXCLUDED_CONDITIONS.get(dataset, ()))]))
        ood[name] = np.mean(values)
    table["OOD accuracy"] = pd.Series(ood)
    return table


def reference_entropy(df: pd.DataFrame) -> float:
    """model-vs-human's ``Entropy.analysis``: per subject, mean over subjects."""
    values = []
    for subj in df["subj"].unique():
        own = df.loc[df["subj"] == subj]
        shares = [len(own.loc[own.object_response == c]) / len(own) for c in own.category.unique() if str(c) != "na"]
        values.append(0 - sum(p * np.log2(p) for p in shares if abs(p) > 1e-5))
    return float(np.mean(values))


@pytest.fixture(scope="module")
def report() -> BenchmarkReport:
    with pytest.warns(UserWarning, match="over 3 of its 17 datasets"):
        return fp.benchmark(raw_data())


def test_the_aggregates_equal_model_vs_humans_loops(report) -> None:
    expected = reference_summary(raw_data())
    ours = report.summary.set_index("observer")
    assert list(ours.index) == ["model-a", "model-b", "humans"]
    for theirs, mine in (("OOD accuracy", "ood_accuracy"), ("accuracy difference", "accuracy_difference"),
                         ("observed consistency", "observed_consistency"), ("error consistency", "error_consistency")):
        np.testing.assert_allclose(ours[mine], expected.loc[ours.index, theirs], rtol=1e-12, err_msg=mine)


def test_entropy_per_condition_equals_model_vs_humans(report) -> None:
    df = raw_data()
    df.loc[df["distortion"] == "sketch", "condition"] = "all"
    for row in report.conditions.itertuples():
        members = df["subj"].str.startswith("subject-") if row.observer == "humans" else df["subj"] == row.observer
        part = df[members & (df["distortion"] == row.dataset) & (df["condition"] == row.condition)]
        assert row.entropy == pytest.approx(reference_entropy(part), abs=1e-12)


def test_excluded_conditions_are_those_of_the_benchmark_in_any_spelling() -> None:
    assert is_excluded("low-pass", "15") and is_excluded("low-pass", "15.0") and not is_excluded("low-pass", "5")
    assert is_excluded("false-colour", "true") and is_excluded("uniform-noise", "0") and is_excluded("contrast", "c3")
    assert not is_excluded("sketch", "0")


def test_entropy_is_the_response_distributions_entropy_in_bits() -> None:
    trials = pd.DataFrame({"subj": ["m"] * 4 + ["subject-01"] * 4, "distortion": "low-pass", "condition": "3",
                           "imagename": [f"i{k}.png" for k in range(4)] * 2, "category": ["cat", "dog"] * 4,
                           "object_response": ["cat", "cat", "dog", "bird", "cat", "cat", "cat", "cat"]})  # fmt: skip
    with pytest.warns(UserWarning, match="over 1 of its 17"):
        result = fp.benchmark(trials)
    rows = result.conditions.set_index("observer")
    # m: cat 1/2, dog 1/4 (bird is not a category shown): -(.5 log2 .5 + .25 log2 .25) = 1.0 bits
    assert rows.loc["m", "entropy"] == pytest.approx(1.0) and rows.loc["humans", "entropy"] == 0.0
    confusion = result.confusion.set_index(["observer", "category", "response"])
    assert confusion.loc[("m", "dog", "bird"), "percent"] == 50.0


def test_the_run_folder_has_one_table_and_figure_per_model_and_reads_back(report, tmp_path, monkeypatch) -> None:
    reads = []
    original = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: reads.append(a) or original(*a, **k))
    report.save(tmp_path)
    assert reads == []  # the figures are drawn from the tables in hand, not read back
    monkeypatch.undo()
    for name in ("summary.csv", "datasets.csv", "conditions.csv", "confusion.csv", "benchmark.png",
                 "benchmark-model-a.csv", "benchmark-model-a.png", "benchmark-model-b.pdf"):  # fmt: skip
        assert (tmp_path / name).is_file(), name
    loaded = BenchmarkReport.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.summary, report.summary, check_dtype=False)
    plain = pd.read_csv(tmp_path / "conditions.csv")
    assert not plain.isna().any().any()


def test_the_command_reads_raw_data_folders_and_a_probe_table(tmp_path, capsys) -> None:
    trials = raw_data()
    for dataset in ("low-pass", "contrast"):  # humans as model-vs-human's raw-data/<dataset>/<file>.csv, no distortion
        folder = tmp_path / "raw-data" / dataset
        folder.mkdir(parents=True)
        for subj in ("subject-01", "subject-02", "subject-03"):
            own = trials[(trials.distortion == dataset) & (trials.subj == subj)].drop(columns="distortion")
            own.to_csv(folder / f"{dataset}_{subj}_session_1.csv", index=False)
    models = trials[trials.subj.str.startswith("model") & (trials.distortion != "sketch")]
    models.to_csv(tmp_path / "trials.csv", index=False)
    code = main(["benchmark", str(tmp_path / "raw-data"), str(tmp_path / "trials.csv"), "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "over 2 of its 17 datasets" in captured.err and "model-a" in captured.out
    summary = pd.read_csv(tmp_path / "o" / "summary.csv")
    assert list(summary["n_datasets"]) == [2, 2, 2]


def test_trials_without_humans_are_refused() -> None:
    with pytest.raises(DataError, match="no human observer"):
        fp.benchmark(raw_data().query("subj.str.startswith('model')", engine="python"))
