"""``freqprobe attribute --real P --fake P [--variant V] [--bands N] --out DIR``: which bands and pixels decide."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import BAND_METHODS, DEVICE_HELP, PIXEL_METHODS, SIZE_HELP, crop_size

NAME = "attribute"
HELP = "attribute a classifier's real-vs-fake decision to spectral bands, Fourier coefficients and pixels (Captum)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="real images: a folder, an .npz (arr_0, NHWC uint8) or an .npy")
    parser.add_argument("--fake", required=True, help="generated images (the set attributed against --real)")
    parser.add_argument(
        "--other-fake", action="append", default=[], metavar="P",
        help="a K-way study's other generated sets (repeat): its split needs all of its sets, so that the "
        "attributed images are its held-out test images (default: none)",
    )  # fmt: skip
    parser.add_argument("--out", required=True, type=Path, help="run folder to write")
    parser.add_argument(
        "--model",
        default=None,
        help="a run folder of 'freqprobe ablate', module:factory (with --weights) or a TorchScript file; "
        "default: train a FastNet on --variant first (into OUT/model) and attribute on its held-out images",
    )
    parser.add_argument(
        "--weights", default=None, help="state dict for a module:factory model (loaded weights_only; default: none)"
    )
    parser.add_argument("--variant", default="original", help="transform the model sees (and of a study: its model)")
    parser.add_argument(
        "--seed", type=int, default=None, help="the study's training seed (default: its first; no --model: train with it)"
    )
    parser.add_argument(
        "--recipe", default=None, help="the study's training recipe (default: its first; no --model: train with it)"
    )
    parser.add_argument("--bands", type=int, default=8, help="equal radial rings over [0, 0.707] (default 8)")
    parser.add_argument(
        "--edges", type=float, nargs="+", default=None, help="ring edges in cycles/pixel instead (default: --bands)"
    )
    parser.add_argument("--sectors", type=int, default=1, help="orientation sectors per ring (default 1)")
    parser.add_argument(
        "--methods", nargs="+", choices=BAND_METHODS, default=list(BAND_METHODS), metavar="METHOD",
        help=f"band attribution methods, of {', '.join(BAND_METHODS)}",
    )  # fmt: skip
    parser.add_argument(
        "--pixel-methods", nargs="*", choices=PIXEL_METHODS, default=list(PIXEL_METHODS), metavar="METHOD",
        help=f"pixel-map methods, of {', '.join(PIXEL_METHODS)}; none: give the option alone",
    )  # fmt: skip
    parser.add_argument("--heatmap", action="store_true", help="also the Fourier heat map (Yin et al.; slow)")
    parser.add_argument(
        "--target",
        default="margin",
        help="margin (default: own class logit minus the other's), true (own class logit), or a logit index",
    )
    parser.add_argument(
        "--classes",
        type=int,
        nargs=2,
        default=None,
        metavar=("REAL", "FAKE"),
        help="the logit indices of the real and the fake class (default 0 1; required for a model "
        "with other than 2 outputs)",
    )
    parser.add_argument(
        "--baseline",
        choices=["swap", "zero"],
        default="swap",
        help="a band's gain of 0: swap (default) puts in the band of an image of the other class; "
        "zero removes the band (with DC, the image mean)",
    )
    parser.add_argument("--n-images", type=int, default=256, help="images per class (default 256)")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)


def run(args: argparse.Namespace) -> None:
    from ..ablation import ablate
    from ..attribution import attribute
    from ..attribution.scores import resolve_target
    from ..attribution.inputs import check_options, check_variant
    from ..data import load_images

    target = int(args.target) if args.target.isdigit() else args.target
    bands = args.edges if args.edges is not None else args.bands
    layout, _, _ = check_options(bands, args.sectors, args.methods, args.pixel_methods, target, n_images=args.n_images)
    real = load_images(args.real, size=args.size)
    fake = load_images(args.fake, size=args.size)
    others = [load_images(path, size=args.size) for path in args.other_fake]
    layout.check_size(*real.size)
    check_variant(args.variant, real.size, args.pixel_methods)
    model = args.model
    if model is None:
        resolve_target(target, args.classes or (0, 1), n_logits=2)  # the FastNet about to be trained is binary
        folder = args.out / "model"
        print(f"no --model: training a FastNet on {args.variant} into {folder} (its held-out images are attributed)")
        recipe = {"recipe": args.recipe} if args.recipe else {}  # ablate's default otherwise
        seeds = 1 if args.seed is None else [args.seed]
        model = ablate(real, fake, [args.variant], seeds=seeds, null=False, out=folder, device=args.device, **recipe)
    report = attribute(
        model,
        real,
        fake,
        bands,
        methods=args.methods,
        sectors=args.sectors,
        pixel_methods=args.pixel_methods,
        heatmap=args.heatmap,
        target=target,
        classes=args.classes,
        baseline=args.baseline,
        others=others,
        variant=args.variant,
        seed=args.seed,
        recipe=args.recipe,
        weights=args.weights,
        n_images=args.n_images,
        device=args.device,
    )
    report.save(args.out)
    print(f"attributed on {report.settings['images']}")
    print(report.ranking.to_string())
    pixels = " and pixel maps" if args.pixel_methods else ""
    print(f"wrote {args.out}/bands.csv, sensitivity.csv, maps.npz, settings.json, attribution.png/.pdf{pixels}")
