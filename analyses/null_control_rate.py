"""How often does a correct null control land above chance? (``docs/reliability.md``)

A null control that is correct (no leakage, no bug) is a classifier trained to tell two
random halves of the real set apart: nothing separates them, so its test accuracy is
chance plus sampling noise. This script trains exactly what ``fp.ablate`` trains for it —
the default recipe, the default split (``test_size=0.2``) and 3 seeds, each seed on its own
random halves — on the demo's real crops, for many independent studies (``split_seed`` =
0, 1, …), and counts:

- runs whose one-sided exact binomial p-value against chance is below 0.05 (what a reader
  of one seed's row would call "above chance");
- studies that ``ablate`` warns about (``NULL CONTROL FAILED``: some run's p-value below
  0.05 / its number of runs, Bonferroni);
- studies where two or more seeds are above chance (one lucky result repeated);
- for comparison, the same counts when all seeds share one halving (the design before the
  null control drew new halves per seed), where a lucky halving repeats on every seed.

Usage: ``python analyses/null_control_rate.py [--studies 40] [--n 500] [--size 32]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import freqprobe as fp
from freqprobe.ablation.tasks import NULL_CONTROL, build_tasks, samples_digest
from freqprobe.execution import Job, RunSpec, TrainingViews, run_job
from freqprobe.stats import binomial_p_value
from freqprobe.training import get_recipe

SEEDS = (0, 1, 2)


def null_accuracies(real: fp.ImageSet, fake: fp.ImageSet, split_seed: int, shared_halves: bool) -> list[tuple[int, int]]:
    """``(correct, n_test)`` of the null control's run for each seed of one study."""
    halves = [0] * len(SEEDS) if shared_halves else list(SEEDS)
    tasks = build_tasks({"real": real, "fake": fake}, 0.2, split_seed, "auto", False, True, sorted(set(halves)))
    by_halves = {task.seed: task for task in tasks if task.name == NULL_CONTROL}
    views = TrainingViews(torch.device("cpu"))
    scores = []
    for seed, half in zip(SEEDS, halves):
        task = by_halves[half]
        spec = RunSpec(NULL_CONTROL, task.classes, (real.fingerprint(),), samples_digest(task), "original", seed,
                       "fast", get_recipe("whitened"))  # fmt: skip
        score = run_job(Job(spec, task, ("original",)), views).record["scores"]["original"]
        scores.append((round(score["accuracy"] * score["n_test"]), score["n_test"]))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=40)
    parser.add_argument("--n", type=int, default=500, help="real images (default 500)")
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    real, fake = fp.demo_sets(n=args.n, size=args.size, seed=0)
    start = time.perf_counter()
    for shared in (False, True):
        runs_above, studies_warned, studies_repeating, spreads = 0, 0, 0, []
        for split_seed in range(args.studies):
            scores = null_accuracies(real, fake, split_seed, shared)
            p_values = [binomial_p_value(c, n, 0.5) for c, n in scores]
            runs_above += sum(p < 0.05 for p in p_values)
            studies_repeating += sum(p < 0.05 for p in p_values) >= 2  # a lucky result that repeats
            studies_warned += min(p_values) < 0.05 / len(p_values)
            spreads.append(np.std([c / n for c, n in scores]))
        n_runs = args.studies * len(SEEDS)
        label = "one halving shared by the seeds" if shared else "new halves per seed (ablate)"
        print(
            f"{label}: {runs_above}/{n_runs} runs above chance at p < 0.05 ({runs_above / n_runs:.3f}); "
            f"{studies_warned}/{args.studies} studies warned ({studies_warned / args.studies:.3f}); "
            f"{studies_repeating}/{args.studies} with 2+ seeds above chance; "
            f"mean spread of a study's seeds {np.mean(spreads):.3f}; n_test {scores[0][1]}"
        )
    print(f"{args.studies} studies x {len(SEEDS)} seeds x 2 designs, {args.n} real images of {args.size} px: "
          f"{time.perf_counter() - start:.0f} s, {torch.get_num_threads()} threads")  # fmt: skip


if __name__ == "__main__":
    main()
