"""``freqprobe spectrum --real P --fake P [--fake P ...] --out DIR``: spectra without training."""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import DENOISERS, DEVICE_HELP, SIZE_HELP, WINDOWS, add_ray_argument, crop_size, ray_options

NAME = "spectrum"
HELP = "mean and residual spectra, radial profiles, ratio maps and artifact peaks of image sets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="real images: a folder, an .npz (arr_0, NHWC uint8) or an .npy")
    parser.add_argument("--fake", required=True, action="append", help="generated images (repeat for several sets)")
    parser.add_argument("--out", required=True, type=Path, help="run folder to write")
    parser.add_argument("--size", type=crop_size, default=None, help=SIZE_HELP)
    parser.add_argument("--window", choices=WINDOWS, default="hann", help="taper against leakage from the image borders")
    parser.add_argument(
        "--denoiser", choices=DENOISERS, default="gaussian",
        help="what the noise residual is taken against (gaussian: linear, every periodic pattern passes)",
    )  # fmt: skip
    parser.add_argument(
        "--min-score", type=float, default=None, help="smallest robust z of a peak (default: fp.spectrum's, 6)"
    )
    parser.add_argument("--max-peaks", type=int, default=None, help="at most this many peaks per set (default 20)")
    parser.add_argument(
        "--batch-size", type=int, default=None,
        help="images per batch (default: about 0.5 M pixels on the CPU, 16 M on CUDA)",
    )  # fmt: skip
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    add_ray_argument(parser)


def run(args: argparse.Namespace) -> None:
    from ..data import load_images
    from ..spectra import spectrum
    from ..spectra.report import MAX_PEAKS, MIN_SCORE, check_options

    options = {k: v for k, v in (("min_score", args.min_score), ("max_peaks", args.max_peaks)) if v is not None}
    check_options(args.window, args.denoiser, options.get("min_score", MIN_SCORE), options.get("max_peaks", MAX_PEAKS),
                  args.batch_size)  # before loading: bad options fail at once  # fmt: skip
    real = load_images(args.real, size=args.size)
    fakes = [load_images(path, size=args.size) for path in args.fake]
    report = spectrum(
        real,
        *fakes,
        window=args.window,
        denoiser=args.denoiser,
        **options,
        batch_size=args.batch_size,
        device=args.device,
        **ray_options(args),
    )
    report.save(args.out)
    peaks = report.peaks
    for name in report.names:
        found = peaks[peaks["set"] == name].head(5)
        listed = ", ".join(f"({fy:g}, {fx:g}) z={z:.1f}" for fy, fx, z in zip(found["fy"], found["fx"], found["score"]))
        print(f"{name}: {len(peaks[peaks['set'] == name])} residual peaks{': ' + listed if listed else ''}")
    print(f"wrote {args.out}/radial.csv, peaks.csv, comparison.csv, angular.csv, subbands.csv, dct.csv, maps.npz,")
    print("      settings.json, spectra.png/.pdf")
