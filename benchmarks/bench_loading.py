"""Images/s of ``load_images`` on a folder of PNGs, cold, building the cache, and from it,
against a plain sequential PIL loop in the same process.

    python benchmarks/bench_loading.py [--n 2000] [--size 256]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import freqprobe as fp


def plain_loop(folder: Path) -> np.ndarray:
    files = sorted(folder.glob("*.png"))
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp) / "images", Path(tmp) / "cache"
        folder.mkdir()
        images = fp.demo_sets(n=args.n, size=args.size)[0].numpy()
        for i, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{i:06d}.png", compress_level=1)
        baseline, reference = timed(lambda: plain_loop(folder))
        cold, loaded = timed(lambda: fp.load_images(folder, progress=False))
        build, _ = timed(lambda: fp.load_images(folder, cache=cache, progress=False))
        hit, cached = timed(lambda: fp.load_images(folder, cache=cache, progress=False))
        assert np.array_equal(loaded.numpy(), reference) and np.array_equal(cached.numpy(), reference)
        print(f"{args.n} PNGs of {args.size}x{args.size}")
        print(f"plain PIL loop       {args.n / baseline:8.0f} img/s")
        print(f"load_images          {args.n / cold:8.0f} img/s   {baseline / cold:5.1f}x")
        print(f"  building cache     {args.n / build:8.0f} img/s")
        print(f"  from cache (mmap)  {args.n / hit:8.0f} img/s   {baseline / hit:5.0f}x")


if __name__ == "__main__":
    main()
