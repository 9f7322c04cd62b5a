"""Images/s of luminance spectra, batched, against per-image NumPy loops; and of fp.spectrum.

    python benchmarks/bench_spectra.py [--n 10000] [--size 256] [--device auto] [--batch-size B]
                                       [--rounds 10] [--numpy-fft fft2|rfft2|both] [--full 500]

All sides run in this process on the same uint8 photo crops, each in its library's natural
layout (torch ``(N, 3, H, W)``, NumPy ``(N, H, W, 3)``), and compute the same statistics of
each image's BT.601 luminance with the periodic Hann window, streamed: the periodogram
summed over images (mean power spectrum), its dB summed with squares (mean of log and its
per-frequency variance), each image's radial profile (ring means, bin width 1/size) and
angular profile (12 sectors above 0.1 cycles/pixel) summed with squares (standard errors),
and the dB of each image's radial profile summed with squares (the significance test).
freqprobe does it in batches (``freqprobe.spectra.measure.measure_luminance``: one
``rfft2`` per image in float32 on the device, float64 running sums). The baselines are
per-image loops in float64 with ``np.bincount``: the loop one writes first, with
``numpy.fft.fft2`` on the full plane, and the same loop on the half plane with
``numpy.fft.rfft2`` (a conjugate pair counted twice, as freqprobe does), which does half
the work. The images are split into ``--rounds`` chunks and the sides take turns chunk by
chunk, so a machine whose speed drifts (a shared or throttled CPU) slows all alike. The
script checks that all give the same mean spectra and profiles, prints the per-image cost
of the FFT alone on each side, then times ``fp.spectrum`` on ``--full`` images per set
(everything it measures: R, G, B and luminance spectra, the Gaussian noise residual's,
sub-bands, DCT, tables and maps).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

import freqprobe as fp
from freqprobe.data.demo import demo_photos, random_crops
from freqprobe.device import resolve_device
from freqprobe.spectra.measure import MeasurePlan, SpectrumSums, measure_luminance
from freqprobe.spectra.power import POWER_FLOOR
from freqprobe.spectra.profiles import ANGULAR_MIN_RADIUS, ANGULAR_SECTORS
from freqprobe.spectra.workspace import Workspace
from freqprobe.transforms.spatial import BT601

KEYS = ("power", "db", "radial", "radial_db", "angular")


class NumpyLoop:
    """The per-image baseline on uint8 ``(H, W, 3)`` images: the same sums, one image at a time."""

    def __init__(self, height: int, width: int, transform: str) -> None:
        self.window = np.outer(np.hanning(height + 1)[:-1], np.hanning(width + 1)[:-1])  # periodic Hann
        self.norm = np.sum(self.window**2)
        self.transform = transform
        columns = width // 2 + 1 if transform == "rfft2" else width
        fy, fx = np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :columns]  # the FFT grid
        radius = np.hypot(fy, fx)
        theta = np.round(np.degrees(np.arctan2(fy, fx)) % 180, 6) % 180
        width_deg = 180 / ANGULAR_SECTORS
        sector_of = np.floor((theta + width_deg / 2) / width_deg) % ANGULAR_SECTORS
        sectors = np.where(radius >= ANGULAR_MIN_RADIUS, sector_of, ANGULAR_SECTORS).astype(int)
        # rfft2: the half plane; columns other than 0 and W/2 stand for two frequencies,
        # except on the Nyquist row, where the two (fy = -1/2, +-fx) lie in mirrored sectors.
        weight = np.ones((height, columns))
        self.nyquist_row = self.nyquist_columns = self.nyquist_sectors = None
        if transform == "rfft2":
            weight[:, 1 : (width + 1) // 2] = 2
        sector_weight = weight.copy()
        if transform == "rfft2" and height % 2 == 0:
            self.nyquist_row, self.nyquist_columns = height // 2, np.arange(1, (width + 1) // 2)
            sector_weight[self.nyquist_row, self.nyquist_columns] = 1
            mirrored = np.round(np.degrees(np.arctan2(-0.5, -fx[0, self.nyquist_columns])) % 180, 6) % 180
            mirrored_sector = np.floor((mirrored + width_deg / 2) / width_deg) % ANGULAR_SECTORS
            inside = radius[self.nyquist_row, self.nyquist_columns] >= ANGULAR_MIN_RADIUS
            self.nyquist_sectors = np.where(inside, mirrored_sector, ANGULAR_SECTORS).astype(int)
        self.weight, self.sector_weight = weight.ravel(), sector_weight.ravel()
        rings = np.floor(radius * min(height, width) + 0.5).astype(int).ravel()
        rings[0] = rings.max() + 1  # DC: a bin of its own, dropped below
        self.rings, self.sectors = rings, sectors.ravel()
        self.ring_count = np.maximum(np.bincount(rings, self.weight), 1)  # ring 0 is empty on square images
        self.sector_count = np.bincount(self.sectors, self.sector_weight, minlength=ANGULAR_SECTORS + 1)
        if self.nyquist_sectors is not None:
            self.sector_count += np.bincount(self.nyquist_sectors, minlength=ANGULAR_SECTORS + 1)
        self.luma = np.array(BT601)
        self.sums = {key: 0.0 for key in KEYS} | {key + "2": 0.0 for key in KEYS if key != "power"}
        self.count = 0

    def add(self, images: np.ndarray) -> None:
        """Add uint8 ``(N, H, W, 3)`` images."""
        sums = self.sums
        fft = np.fft.rfft2 if self.transform == "rfft2" else np.fft.fft2
        for image in images:
            gray = (image / 255.0) @ self.luma
            periodogram = np.abs(fft((gray - gray.mean()) * self.window)) ** 2 / self.norm
            db = 10 * np.log10(np.maximum(periodogram, POWER_FLOOR))
            flat = periodogram.ravel()
            ring = (np.bincount(self.rings, flat * self.weight) / self.ring_count)[:-1]
            ring_db = 10 * np.log10(np.maximum(ring, POWER_FLOOR))
            sector = np.bincount(self.sectors, flat * self.sector_weight, minlength=ANGULAR_SECTORS + 1)
            if self.nyquist_sectors is not None:
                nyquist = periodogram[self.nyquist_row, self.nyquist_columns]
                sector += np.bincount(self.nyquist_sectors, nyquist, minlength=ANGULAR_SECTORS + 1)
            sector = (sector / self.sector_count)[:-1]
            values = {"power": periodogram, "db": db, "radial": ring, "radial_db": ring_db, "angular": sector}
            for key, value in values.items():
                sums[key] = sums[key] + value
                if key != "power":
                    sums[key + "2"] = sums[key + "2"] + value**2
        self.count += len(images)

    def mean(self, key: str) -> np.ndarray:
        return self.sums[key] / self.count


def fft_costs(size: int, device: torch.device, batch_size: int) -> dict[str, float]:
    """Seconds per image of the FFT alone: NumPy per image (float64), torch per batch (float32)."""

    def per_call(function, calls: int) -> float:
        function()
        start = time.perf_counter()
        for _ in range(calls):
            function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / calls

    image = np.random.default_rng(0).random((size, size))
    batch = torch.rand(batch_size, 1, size, size, device=device)
    out = torch.empty(batch_size, 1, size, size // 2 + 1, dtype=torch.complex64, device=device)
    return {
        "numpy fft2 (float64, 1 image)": per_call(lambda: np.fft.fft2(image), 100),
        "numpy rfft2 (float64, 1 image)": per_call(lambda: np.fft.rfft2(image), 100),
        f"torch rfft2 (float32, batch of {batch_size})": per_call(lambda: torch.fft.rfft2(batch, out=out), 30)
        / batch_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="images")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=None, help="default: freqprobe's choice for the device")
    parser.add_argument("--rounds", type=int, default=10, help="chunks the sides alternate over")
    parser.add_argument(
        "--numpy-fft", choices=("fft2", "rfft2", "both"), default="both", help="the baseline loop's transform"
    )
    parser.add_argument("--full", type=int, default=500, help="images per set for the fp.spectrum timing (0: skip)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    plan = MeasurePlan.build(args.size, args.size, device, "hann", "gaussian", args.batch_size)
    crops = random_crops(demo_photos(), args.n, args.size, seed=0)
    images = fp.ImageSet(crops)
    pixels = np.ascontiguousarray(crops.permute(0, 2, 3, 1).numpy())  # NumPy's natural layout
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.n} images of {args.size}x{args.size}, device {device}, torch threads {torch.get_num_threads()}, "
        f"batch {plan.batch_size}, load average {load:.2f} at start"
    )

    transforms = ("fft2", "rfft2") if args.numpy_fft == "both" else (args.numpy_fft,)
    ours, loops = SpectrumSums(), {name: NumpyLoop(args.size, args.size, name) for name in transforms}
    workspace = Workspace(device)
    measure_luminance(images[: 2 * plan.batch_size], plan, workspace=workspace)  # warm-up: plans, kernels, buffers
    for name in transforms:
        NumpyLoop(args.size, args.size, name).add(pixels[:4])
    seconds = dict.fromkeys(("freqprobe", *transforms), 0.0)
    bounds = np.linspace(0, args.n, args.rounds + 1).round().astype(int)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        start = time.perf_counter()
        measure_luminance(images[lo:hi], plan, ours, workspace)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds["freqprobe"] += time.perf_counter() - start
        for name, loop in loops.items():
            start = time.perf_counter()
            loop.add(pixels[lo:hi])
            seconds[name] += time.perf_counter() - start

    half = args.size // 2 + 1
    rings = np.round(plan.radial.centers.cpu().numpy() * args.size).astype(int)
    for name, loop in loops.items():
        power, db = loop.mean("power")[:, :half], loop.mean("db")[:, :half]
        assert np.allclose(ours.power.mean[0].cpu().numpy(), power, rtol=1e-3, atol=1e-9), f"mean spectra ({name})"
        assert np.allclose(ours.decibels.mean[0].cpu().numpy(), db, atol=1e-3), f"mean dB spectra ({name})"
        for key, moments in (("radial", ours.radial), ("radial_db", ours.radial_db)):
            assert np.allclose(moments.mean[0].cpu().numpy(), loop.mean(key)[rings], rtol=1e-3, atol=1e-6), key
        assert np.allclose(ours.angular.mean[0].cpu().numpy(), loop.mean("angular"), rtol=1e-3), f"angular ({name})"

    ours_s = seconds["freqprobe"]
    print(f"{'luminance spectra + profiles':<36}{'img/s':>8}{'us/img':>9}{'freqprobe is':>14}")
    print(f"{'freqprobe (batched)':<36}{args.n / ours_s:>8.0f}{1e6 * ours_s / args.n:>9.0f}")
    for name in transforms:
        label = f"numpy loop (per image, {name})"
        theirs_s = seconds[name]
        print(f"{label:<36}{args.n / theirs_s:>8.0f}{1e6 * theirs_s / args.n:>9.0f}{theirs_s / ours_s:>12.1f}x faster")
    costs = fft_costs(args.size, device, plan.batch_size)
    print("FFT alone, us per image: " + ", ".join(f"{name} {1e6 * s:.0f}" for name, s in costs.items()))

    per_set = min(args.full, args.n // 2)
    if per_set >= 8:
        real, fake = fp.ImageSet(crops[:per_set]), fp.ImageSet(crops[per_set : 2 * per_set])
        fp.spectrum(fp.ImageSet(crops[:16]), device=device, batch_size=args.batch_size)  # warm-up
        start = time.perf_counter()
        fp.spectrum(real, fake, device=device, batch_size=args.batch_size)
        full_s = time.perf_counter() - start
        print(f"fp.spectrum, 2 sets of {per_set} (all statistics, tables and maps): {2 * per_set / full_s:.0f} img/s")


if __name__ == "__main__":
    main()
