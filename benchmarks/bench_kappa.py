"""Seconds per kappa table: ``freqprobe.probe.consistency_table`` against model-vs-human's loop.

    python benchmarks/bench_kappa.py [--observers 10] [--conditions 8] [--images 160] [--repeats 3]

The reference is a faithful re-implementation of model-vs-human's per-condition error
consistency (``modelvshuman/plotting/analyses.py``, ``ErrorConsistency.analysis``, called
for every pair of observers and every condition as ``plot.py``'s ``get_raw_benchmark_df``
does): select each observer's rows of the condition with ``df.loc``, take both accuracies
with ``SixteenClassAccuracy``, sort both by ``image_id``, compare, and form kappa (1 when
the observed consistency is 1). ``DataFrame.append``, gone from pandas 2, is replaced by
collecting rows in a list. Both sides get the same synthetic trial table (every observer
sees the same images in every condition, as in the benchmark's raw data) and run in this
process, alternating, so a shared or throttled CPU slows both alike; the ratio is what to
read, not the seconds. The script checks that both give the same kappas.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd

from freqprobe.probe import consistency_table, read_trials
from freqprobe.probe.trials import image_id


def synthetic_trials(observers: int, conditions: int, images: int, seed: int = 0) -> pd.DataFrame:
    """Every observer answers every image of every condition; accuracy falls with the condition."""
    rng = np.random.default_rng(seed)
    categories = np.array(["airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat", "chair", "clock",
                           "dog", "elephant", "keyboard", "knife", "oven", "truck"])  # fmt: skip
    truth = categories[rng.integers(0, 16, images)]
    difficulty = rng.random(images)
    rows = []
    for s in range(observers):
        for c in range(conditions):
            right = difficulty + 0.3 * rng.random(images) > c / conditions
            answers = np.where(right, truth, categories[rng.integers(0, 16, images)])
            rows.append(pd.DataFrame({
                "subj": f"subject-{s + 1:02d}", "condition": str(c), "imagename": [
                    f"{c * images + k:04d}_s{s + 1:02d}_{c}_{truth[k]}_img{k}.png" for k in range(images)],
                "category": truth, "object_response": answers,
            }))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def reference_kappas(df: pd.DataFrame) -> pd.DataFrame:
    """model-vs-human's loop: one ``ErrorConsistency.analysis`` per pair and condition."""

    def accuracy(frame: pd.DataFrame) -> float:
        return len(frame.loc[frame.object_response == frame.category]) / len(frame)

    def analysis(df1: pd.DataFrame, df2: pd.DataFrame) -> dict[str, float]:
        assert len(df1) == len(df2)
        p1, p2 = accuracy(df1), accuracy(df2)
        expected = p1 * p2 + (1 - p1) * (1 - p2)
        df1 = df1.sort_values(by="image_id").reset_index()
        df2 = df2.sort_values(by="image_id").reset_index()
        assert df1["image_id"].equals(df2["image_id"])
        df1, df2 = df1.copy(), df2.copy()
        df1["is_correct"] = df1.object_response == df1.category
        df2["is_correct"] = df2.object_response == df2.category
        observed = (df1.is_correct == df2.is_correct).sum() / len(df1)
        kappa = 1.0 if observed == 1.0 else (observed - expected) / (1.0 - expected)
        return {"expected-consistency": expected, "observed-consistency": observed, "error-consistency": kappa}

    df = df.copy()
    df["image_id"] = df["imagename"].apply(image_id)
    rows = []
    for first, second in itertools.combinations(list(dict.fromkeys(df["subj"])), 2):
        for condition in df["condition"].unique():
            df1 = df.loc[(df["subj"] == first) & (df["condition"] == condition)]
            df2 = df.loc[(df["subj"] == second) & (df["condition"] == condition)]
            rows.append({"observer_a": first, "observer_b": second, "condition": condition,
                         "kappa": analysis(df1, df2)["error-consistency"]})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--observers", type=int, default=10)
    parser.add_argument("--conditions", type=int, default=8)
    parser.add_argument("--images", type=int, default=160)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    trials = read_trials(synthetic_trials(args.observers, args.conditions, args.images))
    times = {"freqprobe": [], "reference": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours = consistency_table(trials)
        times["freqprobe"].append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = reference_kappas(trials)
        times["reference"].append(time.perf_counter() - start)
    ours = ours[ours["condition"] != "all"].reset_index(drop=True)
    defined = ours["kappa"].notna()
    np.testing.assert_allclose(ours.loc[defined, "kappa"], theirs.loc[defined, "kappa"], atol=1e-12)
    pairs = args.observers * (args.observers - 1) // 2
    print(f"{args.observers} observers ({pairs} pairs), {args.conditions} conditions, {args.images} images each: "
          f"{len(trials)} trials; the same kappas on both sides ({int(defined.sum())} defined cells)")  # fmt: skip
    best = {side: min(values) for side, values in times.items()}
    for side, seconds in best.items():
        print(f"{side:>10}: {seconds:.3f} s (best of {args.repeats})")
    print(f"reference / freqprobe: {best['reference'] / best['freqprobe']:.1f}x (same process, alternating)")


if __name__ == "__main__":
    main()
