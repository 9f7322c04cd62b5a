"""Probe a classifier trained on the demo sets: which distortions does its decision survive?

    python analyses/demo_probe.py [--out runs/demo_probe] [--n 600] [--size 64]

Trains the default classifier to tell the demo's real photo crops from their up-sampled
twins (two seeds, ``fp.ablate``), then probes both models, with no retraining, on fresh
crops (another seed of ``fp.demo_sets``, a folder-free labelled set ``real`` / ``generated``)
under filter-bank low- and high-pass sweeps and three model-vs-human distortions. Writes the
probe's run folder and ``figures/probe.png`` (and PDF), drawn from its saved tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import freqprobe as fp
from freqprobe.figures import save_figure

CUTOFFS = (0.05, 0.1, 0.2, 0.3, 0.4)
DISTORTIONS = (
    "original",
    *(f"lowpass:{f}" for f in CUTOFFS),
    *(f"highpass:{f}" for f in CUTOFFS),
    "contrast:100,50,30,15,10,5",
    "uniform-noise:0,0.03,0.05,0.1,0.2",
    "colour",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/demo_probe"))
    parser.add_argument("--n", type=int, default=600, help="images per set, for training and for probing")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--figures", type=Path, default=Path("figures"))
    args = parser.parse_args()
    real, generated = fp.demo_sets(n=args.n, size=args.size, seed=0)
    study = fp.ablate(real, generated, ["original"], seeds=2, out=args.out / "training", null=False, progress=False)
    print(study.summary[["variant", "n_seeds", "accuracy", "ci_low", "ci_high"]].to_string(index=False))

    fresh_real, fresh_generated = fp.demo_sets(n=args.n, size=args.size, seed=1)
    images = torch.cat([fresh_real.images, fresh_generated.images])
    names = [f"real/{name}" for name in fresh_real.names] + [f"generated/{name}" for name in fresh_generated.names]
    labels = np.repeat([0, 1], [len(fresh_real), len(fresh_generated)])
    data = (fp.ImageSet(images, names, "demo(seed=1)"), labels, ["real", "generated"])
    models = {f"seed {seed}": study.model("original", seed) for seed in (0, 1)}
    report = fp.probe(models, data, distortions=DISTORTIONS)
    report.save(args.out / "probe")
    print(report.curves[["model", "distortion", "condition", "accuracy", "ci_low", "ci_high"]].to_string(index=False))
    pooled = report.consistency[report.consistency["condition"] == "all"]
    print(pooled[["distortion", "observed", "expected", "kappa"]].to_string(index=False))
    for path in save_figure(fp.ProbeReport.load(args.out / "probe").plot(), args.figures / "probe"):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
