"""The ``freqprobe`` command line (contract: DESIGN.md, "Command line and run folders")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__
from .errors import FreqprobeError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freqprobe",
        description="Explain why a classifier tells two image distributions apart, in frequency and in space.",
    )
    parser.add_argument("--version", action="version", version=f"freqprobe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = commands.add_parser("info", help="count, size, modes and channel statistics of an image set")
    info.add_argument("path", help="a folder of images, an .npz (arr_0, NHWC uint8) or an .npy")
    info.add_argument("--size", type=int, default=None, help="center-crop to S x S (default: sizes must agree)")
    info.set_defaults(run=run_info)

    demo = commands.add_parser("demo", help="build the embedded demo sets and summarise them")
    demo.add_argument("--out", required=True, type=Path, help="run folder to write")
    demo.add_argument("--n", type=int, default=1000, help="images per set (default 1000)")
    demo.add_argument("--size", type=int, default=64, help="crop size in pixels (default 64)")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=run_demo)

    listing = commands.add_parser("transforms", help="list the registered transforms and their spec grammar")
    listing.set_defaults(run=run_transforms)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input exits 2 with a one-line reason."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except FreqprobeError as err:
        print(f"freqprobe {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


def run_info(args: argparse.Namespace) -> None:
    import pandas as pd

    from .data import load_images
    from .data.image_files import pixel_modes
    from .data.summary import describe

    images = load_images(args.path, size=args.size)
    row = describe(images)
    if Path(args.path).is_dir():
        row["modes"] = ", ".join(f"{mode}: {count}" for mode, count in pixel_modes(args.path).items())
    else:
        row["modes"] = "uint8 array"
    print(pd.Series(row).to_string())


def run_demo(args: argparse.Namespace) -> None:
    import pandas as pd

    from .data import demo_sets
    from .data.summary import describe
    from .figures import image_grid, save_figure
    from .io import write_samples_npz, write_table

    real, generated = demo_sets(n=args.n, size=args.size, seed=args.seed)
    out: Path = args.out
    for label, images in (("real", real), ("generated", generated)):
        write_samples_npz(images.numpy(), out / f"{label}.npz")
    table = pd.DataFrame([{"set": "real", **describe(real)}, {"set": "generated", **describe(generated)}])
    write_table(table, out / "sets.csv")
    shown = min(8, len(real))
    difference = (generated.float("cpu")[:shown] - real.float("cpu")[:shown]) * 8 + 0.5
    fig = image_grid(
        [list(real.float("cpu")[:shown]), list(generated.float("cpu")[:shown]), list(difference.clamp(0, 1))],
        row_labels=["real", "generated", "difference x8"],
    )
    save_figure(fig, out / "preview")
    print(table.drop(columns=["origin"]).to_string(index=False))
    print(f"wrote {out}/real.npz, generated.npz, sets.csv, preview.png/.pdf")


def run_transforms(args: argparse.Namespace) -> None:
    from .transforms import REGISTRY, usage

    for name in sorted(REGISTRY):
        print(f"{usage(name)[len('usage: '):]:<58} {REGISTRY[name].summary}")


if __name__ == "__main__":
    sys.exit(main())
