"""``freqprobe consistency TRIALS.csv ... --out DIR``: shape bias and error consistency from
trial tables alone (models' ``trials.csv`` or model-vs-human raw data), no model needed."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "consistency"
HELP = "accuracy, shape bias and error consistency from trial tables (models or humans)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trials", nargs="+", type=Path, help="CSV files: subj, imagename, category, object_response"
                        " [, condition, distortion]")  # fmt: skip
    parser.add_argument("--distortion", help="keep this distortion's rows; tables without the column are of it (default: every row)")
    parser.add_argument("--out", required=True, type=Path, help="run folder to write")


def run(args: argparse.Namespace) -> None:
    from ..probe import ProbeReport, read_trials

    trials = read_trials(args.trials, distortion=args.distortion)
    report = ProbeReport.from_trials(trials, {"trials": [str(path) for path in args.trials]})
    report.save(args.out)
    overall = report.shape_bias[report.shape_bias["class"] == "all"]
    for row in overall.itertuples():
        print(f"shape bias of {row.observer} ({row.distortion} {row.condition}): {row.shape_bias:.3f} {row.reason}")
    for row in report.consistency.itertuples():
        print(f"kappa {row.observer_a} vs {row.observer_b} ({row.distortion} {row.condition}): {row.kappa:.3f} "
              f"observed {row.observed:.3f} expected {row.expected:.3f} {row.reason}")  # fmt: skip
    print(f"wrote {args.out}/curves.csv, shape_bias.csv, consistency.csv, trials.csv, figures")
