"""Build the image sets of ``analyses/experiments.toml`` from the embedded demo photos.

    python analyses/experiment_sets.py [--out runs/experiment_sets] [--n 400] [--size 32]

Every set is its own draw of random crops (no image is shared between sets); the
"generators" are known operations, so the answers are known in advance:

- ``real``, ``real_b``: two samples of the real crops (indistinguishable by construction);
- ``up1``, ``up2``, ``up3``, ``up4``: the demo's up-sampling generator applied 1–4 times in
  a row (a model retrained on its own samples, in miniature: artifacts accumulate);
- ``blur``: a 3x3 box blur (another "family");
- for augment vs replace, a 4-class task (which photo a crop comes from): per class
  ``<photo>_real`` (few training crops), ``<photo>_generated`` (crops through the
  up-sampling generator) and ``<photo>_test`` (real crops to score on).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from freqprobe.data.demo import DEMO_PHOTOS, demo_photos, random_crops, upsampling_generator
from freqprobe.io import write_samples_npz

CLASSES = 4


def box_blur(images: torch.Tensor) -> torch.Tensor:
    x = F.avg_pool2d(F.pad(images.float(), (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return x.round().clamp(0, 255).to(torch.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/experiment_sets"))
    parser.add_argument("--n", type=int, default=400, help="images per set")
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    photos = demo_photos()

    def crops(seed: int, n: int = args.n, chosen=photos) -> torch.Tensor:
        return random_crops(chosen, n, args.size, seed)

    sets = {"real": crops(0), "real_b": crops(1), "blur": box_blur(crops(2))}
    for k in range(1, 5):
        images = crops(10 + k)
        for _ in range(k):
            images = upsampling_generator(images)
        sets[f"up{k}"] = images
    for c, name in enumerate(DEMO_PHOTOS[:CLASSES]):
        photo = name.split(".")[0]
        sets[f"{photo}_real"] = crops(100 + c, 30, [photos[c]])
        sets[f"{photo}_generated"] = upsampling_generator(crops(200 + c, 60, [photos[c]]))
        sets[f"{photo}_test"] = crops(300 + c, 150, [photos[c]])
    for name, images in sets.items():
        print(f"wrote {write_samples_npz(images.permute(0, 2, 3, 1).numpy(), args.out / f'{name}.npz')}")


if __name__ == "__main__":
    main()
