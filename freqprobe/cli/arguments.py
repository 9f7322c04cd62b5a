"""Argument types shared by several commands."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from ..errors import FreqprobeError

SIZE_HELP = "center-crop every image to S x S, or H x W with HxW (default: sizes must agree)"
DEVICE_HELP = "auto (CUDA when available, else the CPU), cpu, cuda, cuda:1, ... (default: auto)"
#: Choices the commands offer, spelled here so that --help needs no torch import; tests check
#: them against the registries they name.
WINDOWS = ("hann", "none")
DENOISERS = ("gaussian", "median3", "median5", "wavelet")
BAND_METHODS = ("ablation", "shapley", "ig")
PIXEL_METHODS = ("ig", "smoothgrad", "gradcam", "occlusion")
MODELS = ("fast", "resnet18")
RECIPE_HELP = ("whitened (default: whitening stem + spectral read-out), spatial (the network alone), "
               "plain (learned stem, no read-out)")  # fmt: skip
PRESETS = ("model-vs-human",)


def crop_size(text: str) -> int | tuple[int, int]:
    """``S`` or ``HxW`` (positive ints), as ``load_images(size=...)`` takes it."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?", text)
    if not match or int(match[1]) < 1 or (match[2] is not None and int(match[2]) < 1):
        raise argparse.ArgumentTypeError(f"size must be S or HxW in pixels, got {text!r}")
    return int(match[1]) if match[2] is None else (int(match[1]), int(match[2]))


def add_ray_argument(parser: argparse.ArgumentParser) -> None:
    """``--ray [ADDRESS]``: run the grid on Ray (``ADDRESS``, else ``RAY_ADDRESS``, else Ray started here)."""
    parser.add_argument(
        "--ray", nargs="?", const="", default=None, metavar="ADDRESS",
        help="run on Ray: join the cluster at ADDRESS (or RAY_ADDRESS); without one, start Ray on this machine "
        "(default: no Ray, in this process)",
    )  # fmt: skip


def ray_options(args: argparse.Namespace) -> dict:
    """``executor`` and ``address`` keyword arguments from ``--ray``."""
    return {"executor": "local" if args.ray is None else "ray", "address": args.ray or None}


def read_label_map(value: str | None) -> str | dict | None:
    """``--label-map``: a registered name as it is, or the mapping a JSON file holds."""
    if value is None or not Path(value).is_file():
        return value
    try:
        return json.loads(Path(value).read_text())
    except json.JSONDecodeError as err:
        raise FreqprobeError(f"--label-map {value}: not JSON ({err})") from None
