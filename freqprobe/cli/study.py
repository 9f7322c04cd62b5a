"""``freqprobe run``: every analysis a study file names, into one run folder."""

from __future__ import annotations

import argparse

NAME = "run"
HELP = "run every analysis of a study file (TOML) into one run folder; resumes, redraws the figures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (.toml; see analyses/*.toml and docs/experiments.md)")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="run only these analyses (default: every analysis)")
    parser.add_argument("--redraw", action="store_true", help="run nothing: redraw finished analyses' figures")


def run(args: argparse.Namespace) -> None:
    from ..experiments.studies import run_study

    results = run_study(args.study, only=args.only, redraw=args.redraw)
    print(f"{len(results)} analyses: {', '.join(results)}")
