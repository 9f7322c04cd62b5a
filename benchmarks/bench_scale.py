"""Paper-scale studies: packed training, resident sets, spectra, measured in one process.

    python benchmarks/bench_scale.py --quick          # CPU, small: a few minutes on 1 core
    python benchmarks/bench_scale.py                  # CPU part at full size; the GPU part when CUDA is present

(a) CPU: the 64-px 3-variant grid (original, lowpass:0.2, highpass:0.2) x seeds on the demo
    sets, trained by a plain PyTorch loop (``bench_ablation.plain_run``), by freqprobe one run
    at a time, and by freqprobe packed; wall-time ratios and mean accuracies.
(b) Spectra: ``measure_luminance`` (freqprobe's streaming spectrum of a set) against the
    ``torch.fft.rfft2`` of the same luminance batches alone, the physical floor.
(c) GPU (only with CUDA): the paper's protocol synthesised on the device -- demo-like crops
    at 256 px (photo crops and their up-sampled twins), 50 000 + 50 000, 7 variants x 3 seeds
    plus the null control -- total wall time, images/s per run, the filter bank's throughput
    as a fraction of the device's measured copy bandwidth, and the time a sequential GPU
    loop would take (one run measured without packing, times the number of runs).
Every number is a ratio or a time measured in this process; the device is named.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import torch

import freqprobe as fp
from freqprobe.data.demo import UPSAMPLER_TAPS, demo_photos
from freqprobe.execution import LocalExecutor
from freqprobe.spectra.measure import MeasurePlan, luminance, measure_luminance
from freqprobe.training import Recipe

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ablation import plain_run  # noqa: E402  (a sibling script)

VARIANTS_CPU = ["original", "lowpass:0.2", "highpass:0.2"]
#: The paper's seven variants.
VARIANTS_PAPER = [
    "original", "lowpass:0.15", "highpass:0.25", "bandpass:0.1,0.3", "patchshuffle:8", "grayscale", "edges:sobel",
]  # fmt: skip


def timed(function):
    start = time.perf_counter()
    value = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return value, time.perf_counter() - start


def cpu_grid(n: int, seeds: int) -> None:
    real, fake = fp.demo_sets(n=n, size=64)
    [(real_train, real_test), (fake_train, fake_test)] = fp.train_test_split(real, fake, test_size=0.2, seed=0)

    def stack(r, f):
        return torch.cat([real.images[r], fake.images[f]]), torch.cat([torch.zeros(len(r)), torch.ones(len(f))]).long()

    train, test = stack(real_train, fake_train), stack(real_test, fake_test)
    cpu = torch.device("cpu")
    print(f"\n(a) CPU grid: {n} + {n} demo images of 64 px, {len(VARIANTS_CPU)} variants x {seeds} seeds, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    plain, plain_s = timed(lambda: [plain_run(v, train, test) for v in VARIANTS_CPU for _ in range(seeds)])
    common = dict(variants=VARIANTS_CPU, seeds=seeds, null=False, progress=False, device="cpu")
    sequential, sequential_s = timed(lambda: fp.ablate(real, fake, executor=LocalExecutor(cpu, pack=False), **common))
    packed, packed_s = timed(lambda: fp.ablate(real, fake, executor=LocalExecutor(cpu, pack=True), **common))
    rows = [
        ("plain PyTorch loop", plain_s, sum(plain) / len(plain)),
        ("freqprobe, one run at a time", sequential_s, sequential.table["accuracy"].mean()),
        ("freqprobe, packed", packed_s, packed.table["accuracy"].mean()),
    ]
    print(f"{'':<32}{'seconds':>9}{'x plain':>9}{'mean acc':>10}")
    for name, seconds, acc in rows:
        print(f"{name:<32}{seconds:>9.1f}{plain_s / seconds:>9.1f}{acc:>10.3f}")
    print(f"packed / one at a time: {sequential_s / packed_s:.2f}x faster")


def spectra(images: fp.ImageSet, device: torch.device) -> None:
    """``measure_luminance`` on a set resident on ``device`` against ``rfft2`` alone on a
    luminance batch of the same size, once per batch of the set."""
    images = fp.ImageSet(images.images.to(device))  # resident: batches are slices, no copies
    n, (height, width) = len(images), images.size
    plan = MeasurePlan.build(height, width, device, "hann", "gaussian", None)
    measure_luminance(images, plan)  # warm-up (plans, workspace)
    _, ours = timed(lambda: measure_luminance(images, plan))
    batch = luminance(images.images[: plan.batch_size].float(), 1 / 255)
    out = torch.empty(*batch.shape[:-1], width // 2 + 1, dtype=torch.complex64, device=device)
    batches = -(-n // plan.batch_size)
    _, floor = timed(lambda: [torch.fft.rfft2(batch, out=out) for _ in range(batches)])
    print(f"\n(b) spectra on {device_name(device)}: {n} images of {height} px, batch {plan.batch_size}")
    print(f"freqprobe measure_luminance {n / ours:,.0f} images/s; rfft2 alone {n / floor:,.0f} images/s; "
          f"fraction of the floor {floor / ours:.2f}")  # fmt: skip
    if device.type == "cuda":  # the same set from host memory, streamed in pinned chunks (a budget it does not fit)
        host = fp.ImageSet(images.images.cpu())
        budget = host.images.numel()  # resident needs twice the set: streamed, chunks of a quarter of the set or 1 GiB
        _, streamed = timed(lambda: measure_luminance(host, plan, budget=budget))
        print(f"streamed from host memory: {n / streamed:,.0f} images/s ({ours / streamed:.2f} of resident)")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def synthetic_demo(n: int, size: int, device: torch.device, seed: int = 0) -> tuple[fp.ImageSet, fp.ImageSet]:
    """Demo-like sets made on the device: random crops of the demo photos and the
    demo generator's up-sampled twins (``data/demo.py``), in chunks; returned on the CPU."""
    generator = torch.Generator(device=device).manual_seed(seed)
    photos = [torch.from_numpy(p.copy()).permute(2, 0, 1).to(device) for p in demo_photos()]
    photos = [p for p in photos if min(p.shape[1:]) >= size]
    taps = torch.tensor(UPSAMPLER_TAPS, device=device)
    kernel = (taps[:, None] * taps[None, :]).expand(3, 1, 4, 4).contiguous()
    real = torch.empty(n, 3, size, size, dtype=torch.uint8)
    fake = torch.empty_like(real)
    offsets = torch.arange(size, device=device)
    for start in range(0, n, 2000):
        count = min(2000, n - start)
        which = torch.randint(len(photos), (count,), device=device, generator=generator)
        chunk = torch.empty(count, 3, size, size, dtype=torch.uint8, device=device)
        for k, photo in enumerate(photos):
            rows_of = (which == k).nonzero().flatten()
            if not len(rows_of):
                continue
            top = torch.randint(photo.shape[1] - size + 1, (len(rows_of),), device=device, generator=generator)
            left = torch.randint(photo.shape[2] - size + 1, (len(rows_of),), device=device, generator=generator)
            rows = (top[:, None] + offsets)[:, None, :, None]
            cols = (left[:, None] + offsets)[:, None, None, :]
            chunk[rows_of] = photo[torch.arange(3, device=device)[None, :, None, None], rows, cols]
        low = torch.nn.functional.avg_pool2d(chunk.float() / 255, 2)
        up = torch.nn.functional.conv_transpose2d(
            torch.nn.functional.pad(low, (1, 1, 1, 1), mode="replicate"), kernel, stride=2, padding=3, groups=3
        )
        real[start : start + count] = chunk.cpu()
        fake[start : start + count] = (up * 255).round().clamp(0, 255).to(torch.uint8).cpu()
    names = [f"crop_{i:06d}" for i in range(n)]
    return fp.ImageSet(real, names, "synthetic:real"), fp.ImageSet(fake, names, "synthetic:generated")


def copy_bandwidth(device: torch.device, gib: float = 4.0) -> float:
    """Bytes/s of a device-to-device copy (read + write) of a large tensor."""
    src = torch.empty(int(gib * 2**30), dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    _, seconds = timed(lambda: [dst.copy_(src) for _ in range(5)])
    return 2 * src.numel() * 5 / seconds


def filter_throughput(images: fp.ImageSet, device: torch.device, batch: int = 512) -> dict[str, float]:
    """Bytes/s per variant of filtering resident uint8 batches (uint8 read + float32 written)."""
    resident = images.images[: 8 * batch].to(device)
    index = torch.arange(batch, device=device)
    out = {}
    for spec in VARIANTS_PAPER:
        t = fp.transform(spec, size=images.size)
        t(resident[:batch].float().div_(255), index)  # warm-up
        _, seconds = timed(lambda: [t(resident[s : s + batch].float().div_(255), index) for s in range(0, len(resident), batch)])
        out[spec] = resident.numel() * (1 + 4) / seconds
    return out


def gpu_paper_scale(n: int) -> None:
    device = torch.device("cuda:0")
    name = device_name(device)
    print(f"\n(c) GPU paper scale on {name} ({torch.cuda.device_count()} visible): {n} + {n} images of 256 px")
    (real, fake), seconds = timed(lambda: synthetic_demo(n, 256, device))
    print(f"synthesised in {seconds:.0f} s")
    spectra(real, device)
    bandwidth = copy_bandwidth(device)
    print(f"copy bandwidth {bandwidth / 1e9:.0f} GB/s")
    for spec, rate in filter_throughput(real, device).items():
        print(f"filter {spec:<20} {rate / 1e9:7.0f} GB/s = {rate / bandwidth:.0%} of the copy bandwidth")
    result, total = timed(lambda: fp.ablate(real, fake, VARIANTS_PAPER, seeds=3, device="cuda", progress=True))
    runs = result.table.drop_duplicates("run")
    records = [result.store.record(key) for key in runs["run"]]
    per_run = [r["train_seconds"] for r in records]
    n_train = int(runs["n_train"].iloc[0])
    epochs = Recipe().schedule(n_train)[1]
    print(f"whole study ({len(runs)} runs): {total:.0f} s ({total / 60:.1f} min; goal <= 10 min)")
    print(f"images/s per run (packed, per model): {n_train * epochs / (sum(per_run) / len(per_run)):,.0f}")
    one = fp.ablate(real, fake, ["original"], seeds=[100], null=False, progress=False, device="cuda:0",
                    executor=LocalExecutor(device, pack=False))  # fmt: skip
    single = one.store.record(one.table["run"].iloc[0])["train_seconds"]
    print(f"one run without packing: {single:.0f} s train; a sequential loop of {len(runs)}: ~{single * len(runs):.0f} s "
          f"(training only; {single * len(runs) / total:.1f}x the packed study's total)")  # fmt: skip
    print(result.summary[["task", "variant", "accuracy", "ci_low", "ci_high"]].to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CPU parts only, small")
    parser.add_argument("--n", type=int, default=None, help="images per set of the CPU grid (default 2000, quick 400)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds of the CPU grid (default 3, quick 2)")
    parser.add_argument("--gpu-n", type=int, default=50_000, help="images per set of the GPU study")
    args = parser.parse_args()
    print(f"freqprobe {fp.__version__}, torch {torch.__version__}, {device_name(torch.device('cpu'))}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    cpu_grid(args.n or (400 if args.quick else 2000), args.seeds or (2 if args.quick else 3))
    spectra(fp.demo_sets(n=512, size=128)[0] if args.quick else fp.demo_sets(n=4096, size=256)[0], torch.device("cpu"))
    if not args.quick and torch.cuda.is_available():
        gpu_paper_scale(args.gpu_n)
    elif not torch.cuda.is_available():
        print("\n(c) no CUDA device here: the GPU figures are still to be measured")


if __name__ == "__main__":
    main()
