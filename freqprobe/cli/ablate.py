"""``freqprobe ablate``: retrain (or probe) a classifier on every variant × seed."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import DEVICE_HELP, MODELS, RECIPE_HELP, SIZE_HELP, add_ray_argument, crop_size

NAME = "ablate"
HELP = "train classifiers to tell real from generated images on each filtered variant"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="folder of images, .npz (arr_0, NHWC uint8) or .npy")
    parser.add_argument("--fake", required=True, action="append", help="a generated set (repeat for K-way)")
    parser.add_argument(
        "--variants", nargs="+", default=["original"], metavar="SPEC",
        help="transform specs, each a retrained (or probed) variant: original, lowpass:0.1, highpass:0.1, "
        "patchshuffle:8, ... (see `freqprobe transforms`)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (default 3)")
    parser.add_argument(
        "--mode", choices=["retrain", "probe", "both"], default="retrain",
        help="retrain: a model per variant, trained and tested on it; probe: one model trained on the originals, "
        "tested on every variant; both: the two side by side",
    )  # fmt: skip
    parser.add_argument("--model", default="fast", help=f"{', '.join(MODELS)} or module:factory (default: fast)")
    parser.add_argument(
        "--recipe", nargs="+", default=["whitened"], metavar="RECIPE",
        help=f"training recipes, run side by side: {RECIPE_HELP}",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the recipe's)")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--test-size", type=float, default=0.2, help="fraction of each set held out (default 0.2)")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument(
        "--pack",
        choices=["auto", "yes", "no"],
        default="auto",
        help="train runs of one task together as one batched computation: auto (default: on CUDA, not on a CPU, "
        "where it does not pay), yes, no",
    )
    parser.add_argument("--names", nargs="+", default=None, help="class names, real first (default: file stems)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the one train/test split (default 0)")
    parser.add_argument(
        "--paired",
        choices=["auto", "yes", "no"],
        default="auto",
        help="keep images of the same name on one side of the split: auto (default: sets named by files that "
        "share names), yes (every set, also .npz batches drawn from the same labels), no",
    )
    parser.add_argument("--no-pairwise", action="store_true", help="with several fakes, skip the pairwise tasks")
    parser.add_argument("--no-null", action="store_true", help="skip the real-vs-real null control")
    parser.add_argument("--limits", type=Path, default=None, help="an audiogram of --real (`freqprobe limits` folder; default OUT/limits)")
    parser.add_argument("--out", required=True, type=Path, help="run folder (re-running resumes)")
    add_ray_argument(parser)


def run(args: argparse.Namespace) -> None:
    import dataclasses

    from ..ablation import ablate
    from ..data import load_images
    from ..device import resolve_device
    from ..execution import LocalExecutor
    from ..execution.ray_executor import RayExecutor
    from ..training import get_recipe

    from ..errors import FreqprobeError
    from ..transforms import transform
    from ..validation import check_fraction

    recipes = [get_recipe(name) for name in args.recipe]  # labelled as in Python: whitened,epochs=3
    for variant in args.variants:  # bad options fail before the images load (sizes are checked after)
        transform(variant)
    if args.seeds < 1:
        raise FreqprobeError(f"--seeds must be >= 1, got {args.seeds}")
    check_fraction(args.test_size, "test_size")  # named as in Python: the CLI shows it as --test-size
    if args.epochs is not None:
        recipes = [dataclasses.replace(r, epochs=args.epochs) for r in recipes]
    real = load_images(args.real, size=args.size)
    fakes = [load_images(path, size=args.size) for path in args.fake]
    pack = {"auto": None, "yes": True, "no": False}[args.pack]
    if args.ray is None:
        executor = LocalExecutor(resolve_device(args.device), progress=True, pack=pack)
    else:  # a Ray task per run, or per pack of runs on a GPU
        executor = RayExecutor(args.device, args.ray or None, pack)
    result = ablate(
        real,
        fakes,
        args.variants,
        seeds=args.seeds,
        mode=args.mode,
        model=args.model,
        recipe=recipes,
        out=args.out,
        device=args.device,
        names=args.names,
        test_size=args.test_size,
        split_seed=args.split_seed,
        paired={"auto": "auto", "yes": True, "no": False}[args.paired],
        pairwise=not args.no_pairwise,
        null=not args.no_null,
        executor=executor,
        limits=args.limits,
    )
    columns = ["task", "variant", "mode", "recipe", "n_seeds", "accuracy", "ci_low", "ci_high", "p_value_max", "linear_accuracy"]
    print(result.summary[columns].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"wrote {args.out}/results.csv, summary.csv, ablation.png/.pdf")

