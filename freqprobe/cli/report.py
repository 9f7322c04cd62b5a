"""``freqprobe report DIR``: one self-contained HTML page of everything a run folder holds."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "write DIR/report.html: every analysis in a run folder, its figures and sortable tables, in one page"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", type=Path, metavar="DIR",
        help="a run folder: an ablate, spectrum, attribute or probe folder, or a folder holding several "
        "(such as freqprobe demo's); other subfolders' CSV tables and PNG figures are shown as they are",
    )  # fmt: skip


def run(args: argparse.Namespace) -> None:
    from ..report import report

    page = report(args.folder)
    path = page.save()
    count = len(page.warnings)
    print(f"wrote {path} ({count} warning{'' if count == 1 else 's'})")
