"""``freqprobe compare``: the generator matrix — every pair of sets classified."""

from __future__ import annotations

import argparse

from .grid_options import add_grid_arguments, grid_options

NAME = "compare"
HELP = "tell every pair of image sets apart (a matrix clustered by distinguishability)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", required=True, action="append", dest="sets",
                        help="an image set (repeat; at least two; the first is the null control's)")  # fmt: skip
    add_grid_arguments(parser)


def run(args: argparse.Namespace) -> None:
    from ..experiments import compare

    result = compare(args.sets, **grid_options(args))  # checks --out before it loads a set
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"clustering order: {', '.join(result.order())}")
    print(f"wrote {args.out}/matrix.csv, matrix.png/.pdf (and ablate's results.csv, summary.csv)")
