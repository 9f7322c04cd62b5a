"""``freqprobe probe --model M --data P [--preset NAME | --distortions V ...] --out DIR``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import (
    DEVICE_HELP,
    PRESETS,
    SIZE_HELP,
    add_ray_argument,
    crop_size,
    ray_options,
    read_label_map,
)

NAME = "probe"
HELP = "an existing classifier under distortions: accuracy curves, shape bias, error consistency"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", action="append",
                        help="module:factory, a TorchScript file or an ablate run folder (repeat; required)")  # fmt: skip
    parser.add_argument("--weights", action="append",
                        help="state-dict file of each --model, in order; '-' for one that needs none (default: none)")  # fmt: skip
    parser.add_argument("--name", action="append",
                        help="observer name of each model, in order (default: file stems, or model, model-2, ...)")  # fmt: skip
    parser.add_argument("--variant", action="append",
                        help="filter-bank variant a model reads, applied after the distortion (of an ablate run "
                        "folder also: its model trained on it); one for all models or one per --model "
                        "(default original)")  # fmt: skip
    parser.add_argument("--data", help="labelled images: a folder with one sub-folder per class (an .npz carries no "
                        "labels; required, except with --list)")  # fmt: skip
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--preset", choices=PRESETS, help="a named sweep (see --list; default: none)")
    group.add_argument(
        "--distortions", nargs="+", metavar="ITEM",
        help="NAME or NAME:L1,L2,... for a benchmark distortion or a one-argument filter-bank transform "
        "(contrast:100,30 or lowpass:0.1,0.25,0.4), or any filter-bank spec (see --list); the undistorted "
        "images are always probed too (default: none)",
    )  # fmt: skip
    parser.add_argument("--class-names", nargs="+",
                        help="classes of the model's outputs, in order (default: an ablate run folder's own, else "
                        "the data's sub-folder names, sorted)")  # fmt: skip
    parser.add_argument("--label-map", help="imagenet16, or a JSON file {class: [output indices]} (default: none)")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--batch-size", type=int, default=128, help="images per forward pass")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random distortions (default 0)")
    parser.add_argument("--monitor-gamma", metavar="FILE.npy", help="false colour's monitor gamma: a .npy file of 256 increasing light "
                        "outputs in [0, 1], one per 8-bit value (default: the sRGB curve; model-vs-human's is "
                        "code/x_gamma_function.npy of rgeirhos/generalisation-humans-DNNs)")  # fmt: skip
    add_ray_argument(parser)
    parser.add_argument("--out", type=Path, help="run folder to write (required, except with --list)")
    parser.add_argument("--list", action="store_true", help="list distortions, presets and label maps, then exit")


def print_registry() -> None:
    from ..probe import DISTORTIONS, LABEL_MAPS, PRESETS

    print("distortions (NAME or NAME:L1,L2,...; any filter-bank spec from `freqprobe transforms` too):")
    for distortion in DISTORTIONS.values():
        print(f"  {distortion.name:<20} {distortion.summary}; levels {', '.join(distortion.preset)}")
    print("presets:    " + ", ".join(f"{name} ({', '.join(items)})" for name, items in PRESETS.items()))
    print("label maps: " + ", ".join(LABEL_MAPS))


def run(args: argparse.Namespace) -> None:
    if args.list:
        print_registry()
        return
    from ..errors import FreqprobeError
    from ..probe import probe
    from ..probe.gamma import gamma_table
    from ..probe.run import load_observer, observer_name

    for option in ("model", "data", "out"):
        if not getattr(args, option):
            raise FreqprobeError(f"--{option} is required")
    gamma_table(args.monitor_gamma)  # a bad table fails before any model loads
    weights = [None if w == "-" else w for w in args.weights] if args.weights else [None] * len(args.model)
    if len(weights) != len(args.model):
        raise FreqprobeError(f"{len(weights)} --weights for {len(args.model)} --model (give '-' for none)")
    label_map = read_label_map(args.label_map)
    # a study's model carries its classes (real first), so the data folders are matched by name
    variants = args.variant or ["original"]
    if len(variants) == 1:
        variants = variants * len(args.model)
    if len(variants) != len(args.model):
        raise FreqprobeError(f"{len(variants)} --variant for {len(args.model)} --model (give one, or one per model)")
    models = [load_observer(source, weights=w, variant=v, device=args.device)
              for source, w, v in zip(args.model, weights, variants)]  # fmt: skip
    report = probe(
        models,
        args.data,
        distortions=args.distortions,
        preset=args.preset,
        class_names=args.class_names,
        label_map=label_map,
        names=args.name or [observer_name(m) + ("" if v == "original" else f" {v}")
                            for m, v in zip(args.model, variants)],  # fmt: skip
        size=args.size,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
        monitor_gamma=args.monitor_gamma,
        **ray_options(args),
    )
    report.save(args.out)
    for row in report.curves.itertuples():
        print(f"{row.model:<16} {row.distortion:<20} {row.condition:<10} accuracy {row.accuracy:.3f} "
              f"[{row.ci_low:.3f}, {row.ci_high:.3f}]")  # fmt: skip
    overall = report.shape_bias[report.shape_bias["class"] == "all"]
    for row in overall.itertuples():
        print(f"shape bias of {row.observer} ({row.distortion} {row.condition}): {row.shape_bias:.3f}")
    print(f"wrote {args.out}/curves.csv, trials.csv, shape_bias.csv, consistency.csv, settings.json, probe.png/.pdf")
