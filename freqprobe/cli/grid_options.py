"""Options shared by the commands that run ``fp.ablate``'s grid over several sets (compare, drift)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from .arguments import SIZE_HELP, crop_size


def add_grid_arguments(parser: argparse.ArgumentParser) -> None:
    """``--variants --seeds --model --recipe --epochs --size --test-size --device --names
    --split-seed --paired --no-null --out``, as ``freqprobe ablate`` spells them."""
    parser.add_argument("--variants", nargs="+", default=["original"], help="transform specs (see `freqprobe transforms`)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (default 3)")
    parser.add_argument("--model", default="fast", help="fast (default), resnet18 or module:factory")
    parser.add_argument("--recipe", default="whitened", help="whitened (default) or plain")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the recipe's)")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--test-size", type=float, default=0.2, help="fraction of each set held out (default 0.2)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument("--names", nargs="+", default=None, help="set names in order (default: real, then file stems)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the one train/test split (default 0)")
    parser.add_argument("--paired", choices=["auto", "yes", "no"], default="auto",
                        help="keep images of the same name on one side of the split (as in freqprobe ablate)")  # fmt: skip
    parser.add_argument("--no-null", action="store_true", help="skip the real-vs-real null control")
    parser.add_argument("--out", required=True, type=Path,
                        help="run folder (re-running resumes; an ablate study of the same sets there is reused)")  # fmt: skip


def grid_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of ``fp.compare`` / ``fp.drift`` from the parsed options."""
    from ..training import get_recipe

    recipe = get_recipe(args.recipe)
    if args.epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=args.epochs)
    return dict(
        variants=args.variants, seeds=args.seeds, names=args.names, size=args.size, out=args.out, model=args.model,
        recipe=recipe, device=args.device, test_size=args.test_size, split_seed=args.split_seed,
        paired={"auto": "auto", "yes": True, "no": False}[args.paired], null=not args.no_null,
    )  # fmt: skip
