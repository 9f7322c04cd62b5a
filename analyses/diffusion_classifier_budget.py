"""The diffusion classifier on Gaussian classes: accuracy against budget, beside Bayes.

    python analyses/diffusion_classifier_budget.py [--out runs/diffusion_budget] [--n 2000] [--seeds 4]

Four diagonal Gaussian classes of 3x4x4 "images" (``fp.generative.GaussianClasses``) have an
exact noise predictor, so the diffusion classifier built on it has no model error left: its
only shortfall is the Monte-Carlo error of a finite budget (and, for the uniform weighting,
the bias of not weighting as the likelihood does). Each point pools the decisions of
several classifiers (noise seeds) on the same images, ``max(--seeds, min(64, 2048 //
budget))`` of them: one seed's few pairs at a small budget make a jagged curve, the mean
over seeds is what a budget buys (the interval treats the pooled decisions as independent,
so it is narrower than an interval over images would be). Writes ``budget.csv`` (``weighting,
budget, evaluations, accuracy, ci_low, ci_high, seeds, agreement``) and ``figures/diffusion_budget``
(PNG and PDF), drawn from the saved table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import torch

import freqprobe as fp
from freqprobe.figures import save_figure
from freqprobe.figures.generative import budget_figure
from freqprobe.io import atomic_path
from freqprobe.stats.accuracy import wilson_interval

BUDGETS = (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
WEIGHTINGS = ("elbo", "uniform")


def decide(gauss: fp.generative.GaussianClasses, images: torch.Tensor, budget: int, weighting: str,
           seed: int) -> torch.Tensor:  # fmt: skip
    model = fp.diffusion_classifier(gauss.eps, [f"class-{k}" for k in range(gauss.k)], budget=budget, seed=seed,
                                    weighting=weighting, batch_size=1 << 16, progress=False)  # fmt: skip
    with torch.no_grad():
        return model(images).argmax(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/diffusion_budget"))
    parser.add_argument("--n", type=int, default=2000, help="images, balanced over the 4 classes")
    parser.add_argument("--seeds", type=int, default=4, help="noise seeds pooled per point, at least")
    parser.add_argument("--figures", type=Path, default=Path("figures"))
    args = parser.parse_args()
    gauss = fp.generative.GaussianClasses()
    images, labels = gauss.sample(args.n)
    bayes = gauss.log_density(images).argmax(1)
    bayes_accuracy = float((bayes == labels).float().mean())
    rows = []
    for weighting in WEIGHTINGS:
        for budget in BUDGETS:
            seeds = max(args.seeds, min(64, 2048 // budget))
            decisions = torch.cat([decide(gauss, images, budget, weighting, seed) for seed in range(seeds)])
            trials = len(decisions)
            correct = int((decisions == labels.repeat(seeds)).sum())
            low, high = wilson_interval(correct, trials)
            rows.append({"weighting": weighting, "budget": budget, "evaluations": budget // gauss.k * gauss.k,
                         "accuracy": correct / trials, "ci_low": low, "ci_high": high,
                         "seeds": seeds, "agreement": float((decisions == bayes.repeat(seeds)).float().mean())})  # fmt: skip
            print(f"{weighting:8s} budget {budget:5d}  accuracy {correct / trials:.3f}  "
                  f"agrees with Bayes {rows[-1]['agreement']:.3f}")
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out / "budget.csv") as partial:
        table.to_csv(partial, index=False)
    with atomic_path(args.out / "bayes.json") as partial:
        Path(partial).write_text(json.dumps({"bayes_accuracy": bayes_accuracy, "n": args.n}))
    print(f"Bayes accuracy {bayes_accuracy:.3f}")
    fig, _ = budget_figure(pd.read_csv(args.out / "budget.csv"), bayes_accuracy)
    args.figures.mkdir(parents=True, exist_ok=True)
    print("wrote", *save_figure(fig, args.figures / "diffusion_budget"))


if __name__ == "__main__":
    main()
