"""``freqprobe limits --real P --out DIR``: the sensitivity audiogram of the study's detectors."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import SIZE_HELP, crop_size

NAME = "limits"
HELP = "the smallest planted sinusoid the network and the linear probe detect, per frequency (audiogram)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="folder of images, .npz (arr_0, NHWC uint8) or .npy")
    parser.add_argument("--out", required=True, type=Path, help="run folder (re-running resumes)")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--step", type=float, default=0.125, help="grid spacing in cycles/pixel (default 0.125: 24 frequencies)")
    parser.add_argument("--amplitudes", type=float, nargs=2, default=[0.25, 32.0], metavar=("MIN", "MAX"),
                        help="searched amplitudes in grey levels (default 0.25 32)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=4, help="bisections per frequency after both ends (default 4)")
    parser.add_argument("--detectors", nargs="+", default=["network", "linear"], help="network and/or linear")
    parser.add_argument("--model", default="fast", help="fast (default) or resnet18")
    parser.add_argument("--recipe", default="whitened", help="whitened (default), spatial or plain")
    parser.add_argument("--seed", type=int, default=0, help="seeds the planted phases and the training (default 0)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the halves and their split (default 0)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")


def run(args: argparse.Namespace) -> None:
    from ..data import load_images
    from ..limits import detection_limits

    real = load_images(args.real, size=args.size)
    result = detection_limits(
        real,
        step=args.step,
        amplitudes=tuple(args.amplitudes),
        steps=args.steps,
        detectors=args.detectors,
        model=args.model,
        recipe=args.recipe,
        seed=args.seed,
        split_seed=args.split_seed,
        out=args.out,
        device=args.device,
    )
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(result.describe())
    print(f"wrote {args.out}/limits.csv, evaluations.csv, limits.json, limits.png/.pdf")
