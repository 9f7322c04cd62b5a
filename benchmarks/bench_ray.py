"""Runs one after another (in process) against two at once (a local Ray with 2 CPUs), on
the same small study, in the same process.

    python benchmarks/bench_ray.py [--n 300] [--size 32] [--seeds 2] [--repeats 2]

The study: the demo sets (real photo crops vs their generated twins), 3 variants x seeds
plus the null control, the default recipe. Both executors train with one torch thread per
run (Ray gives each run one core); every measurement starts from an empty run folder. Ray
is started once, before any timing; its first study also pays for starting its worker
processes (reported apart). Prints the wall-clock seconds of each study and the ratio of
the medians (in process / Ray), and checks that the tables are identical.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import pandas as pd
import torch

import freqprobe as fp

VARIANTS = ["original", "lowpass:0.2", "highpass:0.2"]


def timed_study(real, fake, seeds: int, executor: str) -> tuple[float, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = fp.ablate(real, fake, VARIANTS, seeds=seeds, out=out, device="cpu", progress=False, executor=executor)
        return time.perf_counter() - start, result.table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="images per set")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import ray

    torch.set_num_threads(1)
    real, fake = fp.demo_sets(n=args.n, size=args.size)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    cold, reference = timed_study(real, fake, args.seeds, "ray")
    print(f"ray, first study (starts its workers): {cold:.1f} s")
    times: dict[str, list[float]] = {"local": [], "ray": []}
    for _ in range(args.repeats):
        for executor in ("local", "ray"):  # interleaved, so a load change hits both alike
            seconds, table = timed_study(real, fake, args.seeds, executor)
            pd.testing.assert_frame_equal(table, reference)
            times[executor].append(seconds)
            print(f"{executor:<5} {seconds:.1f} s")
    runs = reference["run"].nunique()
    local, on_ray = statistics.median(times["local"]), statistics.median(times["ray"])
    print(f"{runs} runs; median {local:.1f} s one after another, {on_ray:.1f} s two at once on Ray: "
          f"{local / on_ray:.2f}x; tables identical")  # fmt: skip


if __name__ == "__main__":
    main()
