"""Draw ``figures/transforms.png/.pdf``: every filter-bank transform on the same demo image.

    python analyses/transform_gallery.py [--out figures/transforms]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

import freqprobe as fp
from freqprobe.data.demo import demo_photos
from freqprobe.figures import image_grid, save_figure

SPECS = [
    "original",
    "lowpass:0.08",
    "highpass:0.08",
    "bandpass:0.08,0.2",
    "lowpass:0.08,window=gaussian",
    "highpass:0.08,window=butterworth,order=2",
    "highpass:0.02,angle=60,120",
    "highpass:0.02,angle=150,30",
    "phase_only",
    "amplitude_only",
    "phase_noise:90",
    "power_equalize",
    "wavelet:haar,level=2,keep=LL",
    "wavelet:db2,level=1,keep=LH",
    "wavelet:db2,level=1,keep=HL",
    "wavelet:db2,level=1,drop=LL",
    "dct:keep=LOW",
    "dct:keep=HIGH",
    "edges:canny",
    "edges:sobel",
    "patchshuffle:4",
    "grayscale",
    "blur:2",
    "noise:0.1",
    "jpeg:10",
    "lowpass:0.25+patchshuffle:4",
]


def gallery_images(size: int = 128) -> torch.Tensor:
    """The shipped photos, center-cropped square and area-downsampled to ``size``."""
    crops = []
    for photo in demo_photos():
        side = min(photo.shape[:2])
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        square = torch.from_numpy(photo[top : top + side, left : left + side].copy()).permute(2, 0, 1)[None]
        crops.append(F.interpolate(square.float() / 255, size=(size, size), mode="area"))
    return torch.cat(crops)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="figures/transforms")
    parser.add_argument("--columns", type=int, default=6)
    args = parser.parse_args()
    images = gallery_images()
    cells = []
    for spec in SPECS:
        transform = fp.transform(spec).fit(images)  # power_equalize needs the set's mean amplitude
        cells.append((transform(images)[1], str(transform)))
    rows = [cells[i : i + args.columns] for i in range(0, len(cells), args.columns)]
    fig = image_grid([[img for img, _ in row] for row in rows], titles=[[t for _, t in row] for row in rows])
    for path in save_figure(fig, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
