"""``freqprobe info PATH``: count, size, pixel modes and channel statistics of a set."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "info"
HELP = "count, size, pixel modes and channel statistics of an image set"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a folder of images, an .npz (arr_0, NHWC uint8) or an .npy")
    parser.add_argument("--size", type=int, default=None, help="center-crop to S x S (default: sizes must agree)")


def run(args: argparse.Namespace) -> None:
    import pandas as pd

    from ..data import load_images
    from ..data.image_files import pixel_modes
    from ..data.summary import describe

    images = load_images(args.path, size=args.size)
    row = describe(images)
    if Path(args.path).is_dir():
        row["modes"] = ", ".join(f"{mode}: {count}" for mode, count in pixel_modes(args.path).items())
    else:
        row["modes"] = "uint8 array"
    print(pd.Series(row).to_string())
