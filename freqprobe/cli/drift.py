"""``freqprobe drift``: each generation against the real set and against the one before."""

from __future__ import annotations

import argparse

from .grid_options import add_grid_arguments, grid_options

NAME = "drift"
HELP = "how far each generation (or checkpoint) drifts from the real set and from the previous one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="the real set")
    parser.add_argument("--generation", required=True, action="append", dest="generations",
                        help="a generation's set (repeat, in generation order)")  # fmt: skip
    add_grid_arguments(parser)


def run(args: argparse.Namespace) -> None:
    from ..experiments import drift

    result = drift(args.real, args.generations, **grid_options(args))  # checks --out before it loads a set
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(result.onset.to_string(index=False))
    print(f"wrote {args.out}/drift.csv, drift.png/.pdf (and ablate's results.csv, summary.csv)")
