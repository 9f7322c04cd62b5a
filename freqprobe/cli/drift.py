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
    from ..data import load_images
    from ..experiments import drift

    options = grid_options(args)
    size = options.pop("size")
    result = drift(load_images(args.real, size=size), [load_images(p, size=size) for p in args.generations], **options)
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(result.onset.to_string(index=False))
    print(f"wrote {args.out}/drift.csv, drift.png/.pdf (and ablate's results.csv, summary.csv)")
