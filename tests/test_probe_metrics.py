"""Shape bias and error consistency from trial tables: hand computations and known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import freqprobe as fp
from freqprobe.errors import DataError
from freqprobe.probe import consistency_table, image_id, read_trials, shape_bias_table
from freqprobe.probe.consistency import kappa_from_counts


def trials(subj: str, correct: list[bool], names: list[str] | None = None, condition: str = "0") -> pd.DataFrame:
    names = names or [f"img{k}.png" for k in range(len(correct))]
    return pd.DataFrame({
        "subj": subj, "condition": condition, "imagename": names, "category": "cat",
        "object_response": ["cat" if ok else "dog" for ok in correct],
    })  # fmt: skip


def test_image_id_strips_folders_and_the_per_trial_prefix_as_model_vs_human() -> None:
    assert image_id("0001_cl_s01_0_airplane1-bicycle2.png") == "airplane1-bicycle2.png"
    assert image_id("airplane/airplane1-bicycle2.png") == "airplane1-bicycle2.png"
    assert image_id("0000_cl_s01_bw_boat_40_n02951358_5952.JPEG") == "n02951358_5952.JPEG"
    assert image_id("plain.png") == "plain.png"


def test_kappa_matches_a_hand_computation() -> None:
    a = [True] * 6 + [False] * 4
    b = [True] * 4 + [False, False, True, False, False, False]
    # p1 = 0.6, p2 = 0.5; both right on 4, both wrong on 3: c_obs = 0.7;
    # c_exp = 0.6 * 0.5 + 0.4 * 0.5 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    prefixed = [f"{k:04d}_cl_s01_img{k}.png" for k in range(10)]
    shuffled = trials("human", b, prefixed).sample(frac=1, random_state=0)
    result = fp.error_consistency(trials("model", a), shuffled)
    assert result["observed"] == pytest.approx(0.7)
    assert result["expected"] == pytest.approx(0.5)
    assert result["kappa"] == pytest.approx(0.4)
    assert (result["n_trials"], result["accuracy_a"], result["accuracy_b"]) == (10, 0.6, 0.5) and pd.isna(result["reason"])


def test_identical_observers_have_kappa_one() -> None:
    correct = list(np.random.default_rng(0).random(200) < 0.6)
    assert fp.error_consistency(trials("a", correct), trials("b", correct))["kappa"] == pytest.approx(1.0)


def test_independent_observers_have_kappa_near_zero() -> None:
    rng = np.random.default_rng(1)
    n = 20000
    result = fp.error_consistency(trials("a", list(rng.random(n) < 0.7)), trials("b", list(rng.random(n) < 0.7)))
    assert abs(result["kappa"]) < 0.03
    assert result["expected"] == pytest.approx(0.7 * 0.7 + 0.3 * 0.3, abs=0.01)


def test_an_observer_with_accuracy_one_gives_nan_with_a_reason() -> None:
    result = fp.error_consistency(trials("a", [True] * 5), trials("b", [True, False, True, False, True]))
    assert math.isnan(result["kappa"])
    assert result["reason"].startswith("observer_a has accuracy 1")
    values = kappa_from_counts([4], [2], [0], [2])
    assert math.isnan(values["kappa"][0]) and values["reason"][0].startswith("observer_b has accuracy 0")


def test_observers_who_saw_different_images_are_refused() -> None:
    with pytest.raises(DataError, match="saw different images in condition '0' \\(cat/img9.png only by a\\)"):
        fp.error_consistency(trials("a", [True] * 10), trials("b", [True] * 9))
    twice = trials("b", [True, False], ["x.png", "x.png"])
    with pytest.raises(DataError, match="observer b has image cat/x.png twice"):
        fp.error_consistency(trials("a", [True, False], ["x.png", "y.png"]), twice)
    with pytest.raises(DataError, match="trials_a hold 2 observers"):
        fp.error_consistency(pd.concat([trials("a", [True]), trials("c", [True])]), trials("b", [True]))


def test_the_table_has_one_row_per_pair_and_condition_and_a_pooled_row() -> None:
    a, b = [True, False, True, False], [True, True, False, False]
    both = pd.concat([trials(s, c, condition=cond) for s, c in (("a", a), ("b", b)) for cond in ("0", "1")])
    table = consistency_table(read_trials(both))
    assert list(table["condition"]) == ["0", "1", "all"]
    assert list(table["observed"]) == [0.5, 0.5, 0.5]
    assert list(table["kappa"]) == [0.0, 0.0, 0.0]  # c_exp = 0.5 * 0.5 + 0.5 * 0.5


def cue_trials(subj: str, decide: str) -> pd.DataFrame:
    """Cue-conflict trials: 2 shape x 2 texture classes, 2 images each, answered by ``decide``."""
    rows = []
    for shape in ("bird", "cat"):
        for texture in ("bird", "cat"):
            for i in (1, 2):
                answer = {"shape": shape, "texture": texture, "other": "dog"}[decide]
                rows.append((subj, f"{shape}/{shape}{i}-{texture}{i}.png", shape, answer))
    return pd.DataFrame(rows, columns=["subj", "imagename", "category", "object_response"])


def test_shape_and_texture_observers_have_shape_bias_one_and_zero() -> None:
    shape = fp.shape_bias(cue_trials("s", "shape"))
    texture = fp.shape_bias(cue_trials("t", "texture"))
    assert (shape["shape_bias"], texture["shape_bias"]) == (1.0, 0.0)
    # 8 trials, 4 with equal shape and texture are dropped
    assert (shape["n_trials"], shape["n_conflict"], shape["n_shape"], shape["n_texture"]) == (8, 4, 4, 0)
    assert shape["per_class"] == {"bird": 1.0, "cat": 1.0}
    assert texture["frac_texture"] == 1.0 and texture["frac_shape"] == 0.0


def test_shape_bias_counts_a_hand_made_mixture() -> None:
    table = cue_trials("m", "shape")
    conflict = table.index[table["imagename"].str.contains("bird1-cat1|cat1-bird1|cat2-bird2")]
    table.loc[conflict[0], "object_response"] = "cat"  # bird1-cat1: texture decision
    table.loc[conflict[1], "object_response"] = "dog"  # cat1-bird1: neither
    result = fp.shape_bias(table)
    assert result["shape_bias"] == pytest.approx(2 / 3)  # shape 2, texture 1
    assert (result["frac_shape"], result["frac_texture"]) == (0.5, 0.25)
    assert result["per_class"] == {"bird": 0.5, "cat": 1.0}


def test_several_observers_give_one_result_each_and_no_decision_gives_nan() -> None:
    results = fp.shape_bias(pd.concat([cue_trials("s", "shape"), cue_trials("o", "other")]))
    assert set(results) == {"s", "o"}
    assert math.isnan(results["o"]["shape_bias"]) and results["o"]["reason"] == "no shape or texture decision"


def test_bad_cue_conflict_names_are_one_line_errors() -> None:
    table = cue_trials("s", "shape")
    table.loc[0, "imagename"] = "bird/bird1-zebra1.png"
    with pytest.raises(DataError, match="texture class 'zebra' is not a known class"):
        fp.shape_bias(table)
    table.loc[0, "imagename"] = "cat/cat1-bird1.png"
    with pytest.raises(DataError, match="its name says shape 'cat', its category is 'bird'"):
        fp.shape_bias(table)
    with pytest.raises(DataError, match="no cue-conflict images"):
        fp.shape_bias(trials("a", [True]))


def test_shape_bias_table_rows_per_condition_and_class() -> None:
    table = shape_bias_table(read_trials(cue_trials("s", "shape")))
    assert list(table["class"]) == ["all", "bird", "cat"]
    assert list(table["shape_bias"]) == [1.0, 1.0, 1.0]


def test_read_trials_checks_columns_and_mixed_distortion_columns(tmp_path) -> None:
    path = tmp_path / "human.csv"
    trials("h", [True]).drop(columns="object_response").to_csv(path, index=False)
    with pytest.raises(DataError, match="missing column 'object_response'"):
        read_trials(path)
    with_distortion = trials("m", [True]).assign(distortion="contrast")
    with pytest.raises(DataError, match="some trial tables have a distortion column and some not"):
        read_trials([with_distortion, trials("h", [True])])
    both = read_trials([with_distortion, trials("h", [True])], distortion="contrast")
    assert list(both["distortion"]) == ["contrast", "contrast"]


def test_pooled_kappa_counts_every_trial_not_the_mean_of_the_conditions() -> None:
    # condition 0: p1 0.75, p2 0.5, c_obs 0.75, c_exp 0.5 -> kappa 0.5
    # condition 1: p1 0.25, p2 0.25, c_obs 0.5, c_exp 0.625 -> kappa -1/3
    # pooled: p1 4/8, p2 3/8, c_obs 5/8, c_exp 0.5 * 0.375 + 0.5 * 0.625 = 0.5 -> kappa 0.25
    a = {"0": [True, True, True, False], "1": [True, False, False, False]}
    b = {"0": [True, True, False, False], "1": [False, False, False, True]}
    both = pd.concat([trials(s, answers[c], condition=c) for s, answers in (("a", a), ("b", b)) for c in ("0", "1")])
    table = consistency_table(read_trials(both)).set_index("condition")
    assert table.loc["0", "kappa"] == pytest.approx(0.5)
    assert table.loc["1", "kappa"] == pytest.approx(-1 / 3)
    assert table.loc["1", "expected"] == pytest.approx(0.625)
    pooled = table.loc["all"]
    assert (pooled["observed"], pooled["expected"], pooled["n_trials"]) == (0.625, 0.5, 8)
    assert pooled["kappa"] == pytest.approx(0.25)


def test_an_undefined_kappa_is_nan_in_its_own_row_only() -> None:
    a = {"0": [True] * 4, "1": [True, False, True, False]}
    b = {"0": [True, False, False, True], "1": [True, True, False, False]}
    both = pd.concat([trials(s, answers[c], condition=c) for s, answers in (("a", a), ("b", b)) for c in ("0", "1")])
    table = consistency_table(read_trials(both)).set_index("condition")
    assert math.isnan(table.loc["0", "kappa"]) and table.loc["0", "reason"].startswith("observer_a has accuracy 1")
    assert table.loc["1", "kappa"] == 0.0 and pd.isna(table.loc["1", "reason"])  # c_obs = c_exp = 0.5
    assert not math.isnan(table.loc["all", "kappa"]) and pd.isna(table.loc["all", "reason"])
    nobody_right = fp.error_consistency(trials("a", [False] * 3), trials("b", [False] * 3))
    assert math.isnan(nobody_right["kappa"]) and nobody_right["observed"] == 1.0  # c_exp = 1: 0 / 0
    assert nobody_right["reason"].startswith("observer_a has accuracy 0")


def test_observers_without_a_shared_condition_are_refused_naming_their_conditions() -> None:
    model = trials("m", [True, False]).assign(distortion="contrast")
    with pytest.raises(DataError, match="share no condition \\(m: contrast c0; h: low-pass 0\\)"):
        fp.error_consistency(model, trials("h", [True, False]).assign(distortion="low-pass"))


def test_error_consistency_takes_a_distortion_for_a_table_without_the_column() -> None:
    model = pd.concat([trials("m", [True, False, True]).assign(distortion="contrast"),
                       trials("m", [False] * 3).assign(distortion="low-pass")])  # fmt: skip
    human = trials("h", [True, False, False])  # a human's raw-data/contrast/*.csv: no distortion column
    with pytest.raises(DataError, match="some trial tables have a distortion column and some not; pick one"):
        fp.error_consistency(model, human)
    result = fp.error_consistency(model, human, distortion="contrast")
    assert result["n_trials"] == 3 and result["observed"] == pytest.approx(2 / 3)
    assert list(result["conditions"]["distortion"]) == ["contrast"]


def test_curve_intervals_are_wilson_score_intervals() -> None:
    from freqprobe.probe.curves import curves_table

    table = read_trials(trials("a", [True] * 13 + [False] * 27))
    row = curves_table(table).iloc[0]
    n, p, z = 40, 13 / 40, 1.959964
    assert row["accuracy"] == p and (row["n_trials"], row["n_correct"]) == (40, 13)
    # a Wilson bound is a true rate q whose z-score test just accepts p: (p - q)^2 = z^2 q (1 - q) / n
    for q in (row["ci_low"], row["ci_high"]):
        assert (p - q) ** 2 == pytest.approx(z**2 * q * (1 - q) / n, rel=1e-5)
    assert row["ci_low"] < p < row["ci_high"]


def test_the_all_pairs_table_equals_kappa_pair_by_pair() -> None:
    # an independent path: error_consistency merges each pair's trials image by image
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from bench_kappa import synthetic_trials

    trials = read_trials(synthetic_trials(observers=4, conditions=3, images=30, seed=2)).assign(distortion="d")
    table = consistency_table(trials)
    for (a, b), rows in table.groupby(["observer_a", "observer_b"], sort=False):
        pair = fp.error_consistency(trials[trials["subj"] == a], trials[trials["subj"] == b])
        expected = pair["conditions"].set_index("condition").loc[list(rows["condition"].iloc[:-1])]
        np.testing.assert_allclose(rows["kappa"].iloc[:-1], expected["kappa"], equal_nan=True)
        np.testing.assert_array_equal(rows["n_trials"].iloc[:-1], expected["n_trials"])
        assert rows["kappa"].iloc[-1] == pytest.approx(pair["kappa"], nan_ok=True)
    assert len(table) == 6 * 4


def test_the_all_pairs_table_refuses_observers_who_saw_different_images() -> None:
    both = pd.concat([trials("a", [True, False, True]), trials("b", [True, False], ["img0.png", "other.png"])])
    with pytest.raises(DataError, match="observers a and b saw different images in condition '0' "
                                        "\\(cat/img1.png only by a\\)"):  # fmt: skip
        consistency_table(read_trials(both))


def test_one_pair_and_the_table_of_all_pairs_count_alike_and_as_by_hand() -> None:
    """Two observers on two conditions of 40 random trials each, one of them named as the
    other: ``error_consistency`` and ``consistency_table`` give the hand-counted kappas."""
    rng = np.random.default_rng(3)
    right = {c: (rng.random(40) < 0.6, rng.random(40) < 0.7) for c in ("1", "2")}
    a = pd.concat([trials("model", list(r[0]), condition=c) for c, r in right.items()])
    b = pd.concat([trials("model", list(r[1]), condition=c) for c, r in right.items()])
    pair = fp.error_consistency(a, b)
    table = consistency_table(read_trials(pd.concat([a, b.assign(subj="other")]))).set_index("condition")

    def kappa(first: np.ndarray, second: np.ndarray) -> float:
        p1, p2 = first.mean(), second.mean()
        expected = p1 * p2 + (1 - p1) * (1 - p2)
        return ((first == second).mean() - expected) / (1 - expected)

    rows = pair["conditions"].set_index("condition")
    for condition, (first, second) in right.items():
        assert rows.loc[condition, "kappa"] == pytest.approx(kappa(first, second)) == table.loc[condition, "kappa"]
    pooled = kappa(np.concatenate([right["1"][0], right["2"][0]]), np.concatenate([right["1"][1], right["2"][1]]))
    assert pair["kappa"] == pytest.approx(pooled) == table.loc["all", "kappa"] and pair["n_trials"] == 80
