"""``freqprobe augment``: generated images added to the real ones, or in their place."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import SIZE_HELP, crop_size

NAME = "augment"
HELP = "train a K-class classifier on real, real + generated and generated-for-real images; score on real"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="real training images, one sub-folder per class")
    parser.add_argument("--generated", required=True, help="generated images, the same class sub-folders")
    parser.add_argument("--test", required=True, help="real test images, the same class sub-folders")
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.25, 0.5, 1.0],
                        help="generated per real image (augment) and fractions replaced (<= 1); default 0.25 0.5 1")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="seeds (default 3)")
    parser.add_argument("--model", default="fast", help="fast (default), resnet18 or module:factory")
    parser.add_argument("--recipe", default="whitened", help="whitened (default) or plain")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument("--out", required=True, type=Path, help="run folder (re-running resumes)")


def run(args: argparse.Namespace) -> None:
    from ..experiments import augment_vs_replace

    result = augment_vs_replace(
        args.real, args.generated, args.test, args.ratios, args.seeds, size=args.size, out=args.out,
        model=args.model, recipe=args.recipe, device=args.device,
    )  # fmt: skip
    print(result.summary.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"wrote {args.out}/augment.csv, augment_summary.csv, augment.png/.pdf")
