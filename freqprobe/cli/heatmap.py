"""``freqprobe heatmap --model M --data P --out DIR``: Yin et al.'s Fourier heat map of any
K-class classifier on labelled images (``fp.fourier_heatmap``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import DEVICE_HELP, SIZE_HELP, crop_size, read_label_map

NAME = "heatmap"
HELP = "Fourier heat map of a classifier on labelled images: error rate per Fourier basis direction"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="module:factory, a TorchScript file or an ablate run folder")
    parser.add_argument("--weights", help="state-dict file of a module:factory model (default: none)")
    parser.add_argument("--data", required=True, help="labelled images: a folder with one sub-folder per class")
    parser.add_argument("--eps", type=float, default=4.0, help="L2 norm of the basis image (default %(default)s)")
    parser.add_argument("--top-k", type=int, nargs="+", default=[1], help="error = true class not in the k best")
    parser.add_argument("--clamp", action="store_true", help="clip perturbed images to [0, 1] as the reference does")
    parser.add_argument("--class-names", nargs="+", help="classes of the model's outputs, in order (default: an ablate run folder's own, else the data's sub-folder names, sorted)")
    parser.add_argument("--label-map", help="imagenet16, or a JSON file {class: [output indices]} (default: none)")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random signs (default 0)")
    parser.add_argument("--out", required=True, type=Path, help="run folder to write")


def run(args: argparse.Namespace) -> None:
    from ..probe import fourier_heatmap
    from ..probe.run import load_observer, observer_name

    label_map = read_label_map(args.label_map)
    model = load_observer(args.model, weights=args.weights, device=args.device)
    report = fourier_heatmap(model, args.data, eps=args.eps, top_k=args.top_k, clamp=args.clamp,
                             class_names=args.class_names, label_map=label_map, size=args.size,
                             batch_size=args.batch_size, device=args.device, seed=args.seed,
                             name=observer_name(args.model))  # fmt: skip
    report.save(args.out)
    print(report.describe())
    print(f"wrote {args.out}/heatmap.csv, maps.npz, settings.json, heatmap.png/.pdf")
