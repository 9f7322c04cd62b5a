"""Condition labels matched by meaning wherever trial tables meet, and dropped conditions named."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.probe import ProbeReport, consistency_table, read_trials
from freqprobe.probe.conditions import harmonise_conditions

#: (distortion, the probe's spelling, the human raw data's spelling) of the same levels
SPELLINGS = {
    "high-pass": (["inf", "3.0", "1.5", "1.0", "0.7", "0.55", "0.45", "0.4"],
                  ["inf", "3", "1.50", "1", "0.70", "0.550", ".45", "0.40"]),
    "uniform-noise": (["0.0", "0.03", "0.05", "0.1", "0.2", "0.35", "0.6", "0.9"],
                      ["0", "0.030", "5e-2", "0.10", "0.20", "0.350", "0.60", ".9"]),
    "false-colour": (["True", "False"], ["true", "FALSE"]),
    "low-pass": (["0", "1", "3", "5", "7", "10", "15", "40"], ["0.0", "1.0", "3.0", "5", "7.0", "10", "15.0", "40"]),
    "contrast": (["c100", "c50", "c05"], ["c100", "c50", "c5"]),
    "my-sweep": (["1", "0.5", "wide"], ["1.0", "0.50", "wide"]),  # not a benchmark distortion: by value
}  # fmt: skip


def observer(subj: str, distortion: str | None, labels: list[str], seed: int, n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for label in labels:
        right = rng.random(n) < 0.6
        rows += [{"subj": subj, "condition": label, "imagename": f"{k:04d}_s_img{k}.png", "category": "cat",
                  "object_response": "cat" if ok else "dog"} for k, ok in enumerate(right)]  # fmt: skip
    table = pd.DataFrame(rows)
    return table if distortion is None else table.assign(distortion=distortion)


@pytest.mark.parametrize("distortion", list(SPELLINGS))
def test_every_condition_is_shared_whichever_way_the_tables_spell_it(distortion: str, tmp_path) -> None:
    probe_spelling, human_spelling = SPELLINGS[distortion]
    model = observer("model", distortion, probe_spelling, 0)
    human_file = tmp_path / "human.csv"
    observer("subject-01", None, human_spelling, 1).to_csv(human_file, index=False)
    for first, second in ((model, human_file), (human_file, model)):  # both orders: the spelling does not follow
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing is dropped, so nothing is warned about
            result = fp.error_consistency(first, second, distortion=distortion)
        assert len(result["conditions"]) == len(probe_spelling)
        assert result["n_trials"] == 12 * len(probe_spelling)
    if distortion in ("high-pass", "uniform-noise", "false-colour", "low-pass", "contrast"):
        # the benchmark's own spelling is kept, so tables read back as the benchmark spells them
        assert sorted(result["conditions"]["condition"]) == sorted(probe_spelling)


def test_the_consistency_table_and_curves_of_one_mixed_table_pair_every_condition() -> None:
    probe_spelling, human_spelling = SPELLINGS["uniform-noise"]
    both = pd.concat([observer("model", "uniform-noise", probe_spelling, 0),
                      observer("subject-01", "uniform-noise", human_spelling, 1)])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = consistency_table(both)
        report = ProbeReport.from_trials(both)
    assert list(table["condition"]) == [*probe_spelling, "all"]
    assert (table["n_trials"].iloc[:-1] == 12).all() and table["n_trials"].iloc[-1] == 96
    assert len(report.curves) == 16  # 8 conditions per observer, not 8 + 8 half-filled ones


def test_one_spelling_per_meaning_across_tables() -> None:
    a = pd.DataFrame({"distortion": ["x", "x", "x", "rotation"], "condition": ["1", "TRUE", "inf", "90.0"]})
    b = pd.DataFrame({"distortion": ["x", "x", "x", "rotation"], "condition": ["1.00", "true", "Infinity", "90"]})
    a2, b2 = harmonise_conditions([a, b])
    assert list(a2["condition"]) == list(b2["condition"]) == ["1", "True", "inf", "90"]
    assert list(a["condition"]) == ["1", "TRUE", "inf", "90.0"]  # the inputs are left alone


def test_labels_that_differ_in_meaning_stay_apart() -> None:
    a = pd.DataFrame({"distortion": ["x"] * 4, "condition": ["0.1", "0.10000001", "nan", "NaN"]})
    (out,) = harmonise_conditions([a])
    assert list(out["condition"]) == ["0.1", "0.10000001", "nan", "NaN"]


def test_a_dropped_condition_is_warned_about_naming_it_and_its_observer() -> None:
    model = observer("model", "high-pass", SPELLINGS["high-pass"][0], 0)
    human = observer("subject-01", "high-pass", ["inf", "3", "1.5", "1"], 1)
    with pytest.warns(UserWarning, match=r"kappa over the 4 shared conditions; left out: high-pass 0\.7, "
                                         r"high-pass 0\.55, high-pass 0\.45, high-pass 0\.4 \(only model: 4\)"):
        result = fp.error_consistency(model, human)
    assert len(result["conditions"]) == 4
    with pytest.warns(UserWarning, match="1 observer pairs do not share every condition; model vs subject-01"):
        consistency_table(pd.concat([model, human]))


def test_the_consistency_command_pairs_a_probe_table_with_human_raw_data(tmp_path, capsys) -> None:
    probe_spelling, human_spelling = SPELLINGS["false-colour"]
    observer("model", "false-colour", probe_spelling, 0).to_csv(tmp_path / "trials.csv", index=False)
    observer("subject-01", None, human_spelling, 1).to_csv(tmp_path / "human.csv", index=False)
    code = main(["consistency", str(tmp_path / "trials.csv"), str(tmp_path / "human.csv"), "--distortion",
                 "false-colour", "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "out" / "consistency.csv", keep_default_na=False)
    assert list(table["condition"]) == ["True", "False", "all"]
    assert "warning" not in capsys.readouterr().err
    assert set(read_trials([tmp_path / "human.csv"])["condition"]) == {"True", "False"}
