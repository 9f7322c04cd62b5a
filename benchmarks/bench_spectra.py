"""Images/s of a mean power spectrum + radial profile, batched, against a per-image NumPy loop.

    python benchmarks/bench_spectra.py [--n 10000] [--size 256] [--device auto] [--batch-size B] [--full 500]

Both run in this process on the same uint8 photo crops and compute the same statistics of
each image's luminance, streamed: the Hann-windowed periodogram summed over images (mean
power) and its dB summed with squares (mean of log, per-frequency variance), each image's
radial and angular profile summed with squares (standard errors), and the dB of its
radial profile summed with squares (the significance test). freqprobe does it in batches
(``rfft2`` in float32 on the device, float64 running sums: ``freqprobe.spectra.measure``);
the baseline is the loop one writes first: ``numpy.fft.fft2`` in float64 and ``np.bincount``
per image. The script checks that both give the same mean spectrum and radial profile,
then times ``fp.spectrum`` on ``--full`` images per set (everything it measures: R, G, B and
luminance spectra, residuals, sub-bands, DCT, tables and maps) for reference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import freqprobe as fp
from freqprobe.data.demo import demo_photos, random_crops
from freqprobe.device import resolve_device
from freqprobe.spectra.measure import SpectrumSums, default_batch_size
from freqprobe.spectra.power import POWER_FLOOR, power_spectrum, spectral_window
from freqprobe.spectra.profiles import ANGULAR_MIN_RADIUS, ANGULAR_SECTORS, angular_binning, radial_binning
from freqprobe.transforms.spatial import BT601, luminance


def batched(images: fp.ImageSet, device: torch.device, batch_size: int) -> SpectrumSums:
    """freqprobe's path: the luminance part of ``measure_set``."""
    height, width = images.size
    window = spectral_window(height, width, "hann", device)
    radial, angular = radial_binning(height, width, device), angular_binning(height, width, device=device)
    sums = SpectrumSums()
    for x in images.batches(batch_size, device):
        sums.add(power_spectrum(luminance(x), window), radial, angular)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return sums


def numpy_loop(images: np.ndarray) -> dict[str, np.ndarray]:
    """The per-image baseline on uint8 ``(N, H, W, 3)``: the same sums, one image at a time."""
    n, height, width, _ = images.shape
    window = np.outer(np.hanning(height + 1)[:-1], np.hanning(width + 1)[:-1])  # periodic Hann
    norm = np.sum(window**2)
    fy, fx = np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :]
    radius = np.hypot(fy, fx)
    rings = np.floor(radius * min(height, width) + 0.5).astype(int).ravel()
    rings[0] = rings.max() + 1  # DC: a bin of its own, dropped below
    ring_count = np.maximum(np.bincount(rings), 1)  # ring 0 is empty on square images (DC moved out)
    theta = np.round(np.degrees(np.arctan2(fy, fx)) % 180, 6) % 180
    width_deg = 180 / ANGULAR_SECTORS
    sector_of = np.floor((theta + width_deg / 2) / width_deg) % ANGULAR_SECTORS
    sectors = np.where(radius >= ANGULAR_MIN_RADIUS, sector_of, ANGULAR_SECTORS).astype(int).ravel()
    sector_count = np.bincount(sectors)
    keys = ("power", "db", "db2", "radial", "radial2", "radial_db", "radial_db2", "angular", "angular2")
    sums = dict.fromkeys(keys, 0.0)
    weights = np.array(BT601)
    for image in images:
        gray = (image / 255.0) @ weights
        periodogram = np.abs(np.fft.fft2((gray - gray.mean()) * window)) ** 2 / norm
        db = 10 * np.log10(np.maximum(periodogram, POWER_FLOOR))
        ring = (np.bincount(rings, periodogram.ravel()) / ring_count)[:-1]
        ring_db = 10 * np.log10(np.maximum(ring, POWER_FLOOR))
        sector = (np.bincount(sectors, periodogram.ravel()) / sector_count)[:-1]
        values = {"power": periodogram, "db": db, "radial": ring, "radial_db": ring_db, "angular": sector}
        for key, value in values.items():
            sums[key] = sums[key] + value
            if key != "power":
                sums[key + "2"] = sums[key + "2"] + value**2
    return {key: value / n for key, value in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="images")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=None, help="default: freqprobe's choice for the device")
    parser.add_argument("--full", type=int, default=500, help="images per set for the fp.spectrum timing (0: skip)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    batch_size = args.batch_size or default_batch_size(args.size, args.size, device)
    crops = random_crops(demo_photos(), args.n, args.size, seed=0)
    images = fp.ImageSet(crops)
    threads = torch.get_num_threads()
    print(f"{args.n} images of {args.size}x{args.size}, device {device}, torch threads {threads}, batch {batch_size}")

    batched(images[: min(args.n, 2 * batch_size)], device, batch_size)  # warm-up: plans, kernels
    start = time.perf_counter()
    ours = batched(images, device, batch_size)
    ours_s = time.perf_counter() - start

    pixels = crops.permute(0, 2, 3, 1).numpy()
    start = time.perf_counter()
    theirs = numpy_loop(pixels)
    theirs_s = time.perf_counter() - start

    mean_power = ours.power.mean[0].cpu().numpy()
    half_plane = theirs["power"][:, : args.size // 2 + 1]
    assert np.allclose(mean_power, half_plane, rtol=1e-3, atol=1e-9), "mean spectra differ"
    rings = np.round(radial_binning(args.size, args.size).centers.numpy() * args.size).astype(int)
    assert np.allclose(ours.radial.mean[0].cpu().numpy(), theirs["radial"][rings], rtol=1e-3), "radial profiles differ"

    print(f"{'mean spectrum + profiles':<28}{'img/s':>10}")
    print(f"{'freqprobe (batched)':<28}{args.n / ours_s:>10.0f}")
    print(f"{'numpy loop (per image)':<28}{args.n / theirs_s:>10.0f}")
    print(f"{'ratio':<28}{theirs_s / ours_s:>9.1f}x")

    per_set = min(args.full, args.n // 2)
    if per_set >= 8:
        real, fake = fp.ImageSet(crops[:per_set]), fp.ImageSet(crops[per_set : 2 * per_set])
        start = time.perf_counter()
        fp.spectrum(real, fake, device=device, batch_size=args.batch_size)
        full_s = time.perf_counter() - start
        print(f"fp.spectrum, 2 sets of {per_set} (all statistics): {2 * per_set / full_s:.0f} img/s")


if __name__ == "__main__":
    main()
