"""Draw ``figures/spectra.png/.pdf``: the spectra of the embedded demo sets, with their peaks.

    python analyses/demo_spectra.py [--n 1000] [--size 64] [--run runs/demo_spectra] [--out figures/spectra]

The whole run folder (tables, maps, its own copy of the figure) goes to ``--run``; the
figure is drawn from what was saved there, then written to ``--out``.
"""

from __future__ import annotations

import argparse

import freqprobe as fp
from freqprobe.figures import save_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="images per set")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--run", default="runs/demo_spectra", help="run folder for tables and maps")
    parser.add_argument("--out", default="figures/spectra", help="figure stem (.png and .pdf)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    real, generated = fp.demo_sets(n=args.n, size=args.size)
    report = fp.spectrum(real, generated, names=["real", "generated"], device=args.device)
    report.save(args.run)
    for path in save_figure(fp.SpectrumReport.load(args.run).plot(), args.out):
        print(f"wrote {path}")
    print(report.peaks.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
