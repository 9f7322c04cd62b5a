"""``freqprobe limits --real P --out DIR``: the sensitivity audiogram of the study's detectors."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import RECIPE_HELP, SIZE_HELP, add_ray_argument, crop_size

NAME = "limits"
HELP = "the weakest planted sinusoid, noise band, colour cast or JPEG the network and the linear probe detect (audiogram)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="folder of images, .npz (arr_0, NHWC uint8) or .npy")
    parser.add_argument("--out", required=True, type=Path, help="run folder (re-running resumes)")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--probe", default="sinusoid",
                        help="what is planted: sinusoid (default), noise (a band filling each grid cell), colour "
                        "(+red, -blue) or jpeg (re-encoding; strength 100 - quality)")  # fmt: skip
    parser.add_argument("--step", type=float, default=0.125, help="grid spacing in cycles/pixel (default 0.125: 24 frequencies)")
    parser.add_argument("--amplitudes", type=float, nargs=2, default=None, metavar=("MIN", "MAX"),
                        help="searched strengths in the probe's unit: grey levels (default sinusoid and noise 0.25 32, "
                        "colour 1 64), jpeg 100 - quality (default 1 90: qualities 99 to 10)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=4, help="bisections per frequency after both ends (default 4)")
    parser.add_argument("--detectors", nargs="+", default=["network", "linear"], help="network and/or linear")
    parser.add_argument("--model", default="fast", help="fast (default) or resnet18")
    parser.add_argument("--recipe", default="whitened", help=RECIPE_HELP)
    parser.add_argument("--seed", type=int, default=0, help="seeds the planted phases and the training (default 0)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the halves and their split (default 0)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument("--pack", choices=["auto", "yes", "no"], default="auto",
                        help="train a round's networks (one per unfinished search) together as one batched "
                        "computation: auto (default: on CUDA, not on a CPU), yes, no")  # fmt: skip
    add_ray_argument(parser)


def run(args: argparse.Namespace) -> None:
    from ..data import load_images
    from ..execution.ray_session import check_executor
    from ..limits import detection_limits
    from ..limits.kinds import get_probe

    get_probe(args.probe)  # a bad probe or a missing Ray fails before the images load
    check_executor("local" if args.ray is None else "ray")
    real = load_images(args.real, size=args.size)
    result = detection_limits(
        real,
        probe=args.probe,
        step=args.step,
        amplitudes=None if args.amplitudes is None else tuple(args.amplitudes),
        steps=args.steps,
        detectors=args.detectors,
        model=args.model,
        recipe=args.recipe,
        seed=args.seed,
        split_seed=args.split_seed,
        out=args.out,
        device=args.device,
        executor="local" if args.ray is None else "ray",
        pack={"auto": None, "yes": True, "no": False}[args.pack],
        address=args.ray or None,
    )
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(result.describe())
    print(f"wrote {args.out}/limits.csv, evaluations.csv, limits.json, limits.png/.pdf")
