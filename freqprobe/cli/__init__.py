"""The ``freqprobe`` command line (contract: DESIGN.md, "Command line and run folders").

Each command is a module here with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args)``; ``COMMANDS`` lists them in ``--help`` order. Modules import their heavy
dependencies inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from .._version import __version__
from ..errors import FreqprobeError, one_line
from ..io import check_output_folder
from . import ablate, attribute, consistency, demo, info, probe, spectrum, transforms
from . import augment, compare, drift, study

COMMANDS = (demo, ablate, spectrum, attribute, probe, consistency, compare, drift, augment, study, info, transforms)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other bad input (``--help`` shows the usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="freqprobe",
        description="Explain why a classifier tells two image distributions apart, in frequency and in space.",
    )
    parser.add_argument("--version", action="version", version=f"freqprobe {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = subparsers.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input exits 2 with a one-line reason, warnings are one line too."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning(args.command)
        try:
            if getattr(args, "out", None) is not None:  # before any work
                check_output_folder(args.out, "--out")
            args.run(args)
        except (FreqprobeError, OSError) as err:
            print(f"freqprobe {args.command}: error: {one_line(err)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(
                f"freqprobe {args.command}: interrupted; no table was left half-written "
                "(ablate keeps its finished runs: the same command resumes)",
                file=sys.stderr,
            )
            return 130
    return 0


def _one_line_warning(command: str):
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"freqprobe {command}: warning: {message}", file=sys.stderr)

    return show
