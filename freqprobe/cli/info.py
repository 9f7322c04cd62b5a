"""``freqprobe info PATH``: count, size, pixel modes and channel statistics of a set."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import SIZE_HELP, crop_size

NAME = "info"
HELP = "count, size, pixel modes and channel statistics of an image set"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a folder of images, one image file, an .npz (arr_0, NHWC) or an .npy")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)


def run(args: argparse.Namespace) -> None:
    import pandas as pd

    from ..data import load_images
    from ..data.arrays import ARRAY_EXTENSIONS, from_file
    from ..data.image_files import pixel_modes
    from ..data.summary import describe

    images = load_images(args.path, size=args.size)
    row = describe(images)
    path = Path(args.path)
    if path.is_file() and path.suffix.lower() in ARRAY_EXTENSIONS:
        row["modes"] = from_file(path).mode
    else:
        row["modes"] = ", ".join(f"{mode}: {count}" for mode, count in pixel_modes(path).items())
    with pd.option_context("display.max_colwidth", None):  # long paths and modes in full
        print(pd.Series(row).to_string())
