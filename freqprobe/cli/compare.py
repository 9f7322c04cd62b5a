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
    from ..data import load_images
    from ..experiments import compare

    options = grid_options(args)
    size = options.pop("size")
    sets = [load_images(path, size=size) for path in args.sets]
    result = compare(sets, **options)
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"clustering order: {', '.join(result.order())}")
    print(f"wrote {args.out}/matrix.csv, matrix.png/.pdf (and ablate's results.csv, summary.csv)")
