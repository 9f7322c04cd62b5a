"""Draw ``figures/eidolons.png/.pdf``: the model-vs-human eidolon sets and false colour on one photo.

    python analyses/eidolon_gallery.py [--out figures/eidolons] [--size 256]

Rows: eidolon I, II and III (coherence 1.0, 0.3, 0.0; grain 10) at reach 0 (the grey
image), 4, 16, 64 and 128; then false colour (True, False) on an sRGB display (the probe's
default monitor gamma). 256 pixels is the size the eidolon factory made the benchmark's
stimuli at.
"""

from __future__ import annotations

import argparse

import torch
from transform_gallery import gallery_images

from freqprobe.figures import image_grid, save_figure
from freqprobe.probe.distortions import EIDOLON_COHERENCE, parse_conditions

REACHES = (0, 4, 16, 64, 128)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="figures/eidolons")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    image = gallery_images(args.size)[1:2]
    index = torch.zeros(1, dtype=torch.long)
    rows, titles, labels = [], [], []
    for name, coherence in EIDOLON_COHERENCE.items():
        conditions = parse_conditions(f"{name}:{','.join(map(str, REACHES))}")
        rows.append([condition(image, index)[0] for condition in conditions])
        titles.append([f"reach {condition.level:g} ({condition.label})" for condition in conditions])
        labels.append(f"{name} (coherence {coherence:g})")
    colours = parse_conditions("false-colour")
    rows.append([condition(image, index)[0] for condition in colours])
    titles.append([f"false-colour {condition.label}" for condition in colours])
    labels.append("false colour (sRGB)")
    fig = image_grid(rows, titles=titles, row_labels=labels, cell_inches=1.6)
    for path in save_figure(fig, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
