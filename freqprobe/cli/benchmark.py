"""``freqprobe benchmark TRIALS ... --out DIR``: model-vs-human's aggregates (OOD accuracy,
accuracy difference, observed and error consistency, entropy, confusion) of every model
among the trial tables against the human observers among them."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "benchmark"
HELP = "model-vs-human's aggregates of models against human observers, from trial tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trials", nargs="+", type=Path, help="CSV files or folders of them (model-vs-human's "
                        "raw-data/<dataset>/*.csv: a file without a distortion column is of its folder's dataset)")
    parser.add_argument("--humans", default="subject-*",
                        help="pattern of the human observers' subj (default %(default)s)")
    parser.add_argument("--out", required=True, type=Path, help="run folder to write")


def run(args: argparse.Namespace) -> None:
    from ..probe import benchmark

    report = benchmark(args.trials, humans=args.humans)
    report.save(args.out)
    print(report.summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {args.out}/summary.csv, datasets.csv, conditions.csv, confusion.csv, benchmark-<model>.csv, figures")
