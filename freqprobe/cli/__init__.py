"""The ``freqprobe`` command line (contract: DESIGN.md, "Command line and run folders").

Each command is a module here with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args)``; ``COMMANDS`` lists them in ``--help`` order. Modules import their heavy
dependencies inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import warnings
from collections.abc import Sequence

from .._version import __version__
from ..errors import FreqprobeError, one_line
from ..io import check_output_folder
from ..runfolder import claim_folder
from ..suggest import did_you_mean
from . import ablate, attribute, benchmark, consistency, demo, heatmap, humans, info, limits, probe, report
from . import spectrum, transforms
from . import augment, compare, drift, study

#: The kind of run folder each analysis command writes (``runfolder``: one analysis per folder).
OUTPUT_KINDS = {"ablate": "ablate", "spectrum": "spectrum", "attribute": "attribute", "probe": "probe",
                "consistency": "probe", "limits": "limits"}  # fmt: skip
COMMANDS = (
    demo, ablate, spectrum, attribute, probe, consistency, benchmark, heatmap, humans,
    compare, drift, augment, limits, study, report, info, transforms,
)  # fmt: skip


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other bad input (``--help`` shows the usage)."""

    def error(self, message: str):
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:  # argparse lists the choices; add the closest one
            message += did_you_mean(choice[1], [c.strip(" '") for c in choice[2].split(",")])
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already states it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if not action.option_strings or "default" in text or default in (None, False, argparse.SUPPRESS):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
        return f"{text} (default: {shown.replace('%', '%%')})"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="freqprobe",
        description="Explain why a classifier tells two image distributions apart, in frequency and in space.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"freqprobe {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.NAME, help=command.HELP, description=command.HELP, formatter_class=_HelpFormatter
        )
        command.add_arguments(sub)
        options = {o for action in sub._actions for o in action.option_strings if o.startswith("--")}
        sub.set_defaults(run=command.run, options=options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input exits 2 with a one-line reason, warnings are one line too."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(), _library_log():
        warnings.showwarning = _one_line_warning(args.command, args.options)
        try:
            out = getattr(args, "out", None)
            if out is not None:  # before any work
                check_output_folder(out, "--out")
            if out is not None and args.command in OUTPUT_KINDS:
                claim_folder(out, OUTPUT_KINDS[args.command])
            args.run(args)
        except (FreqprobeError, OSError) as err:
            print(f"freqprobe {args.command}: error: {in_flag_terms(one_line(err), args.options)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(
                f"freqprobe {args.command}: interrupted; no table was left half-written "
                "(ablate keeps its finished runs: the same command resumes)",
                file=sys.stderr,
            )
            return 130
    return 0


@contextlib.contextmanager
def _library_log():
    """The library's INFO lines (what it chose: sets resident or streamed, pack sizes) on stderr."""
    logger, handler = logging.getLogger("freqprobe"), logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("freqprobe: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def in_flag_terms(message: str, options: set[str]) -> str:
    """A library error in the words of the command line: ``test_size=2`` and ``test_size`` become
    ``--test-size 2`` and ``--test-size`` where the command has that option.

    Example:
        >>> in_flag_terms("test_size must lie in (0, 1); batch_size=0 must be >= 1", {"--test-size", "--batch-size"})
        '--test-size must lie in (0, 1); --batch-size 0 must be >= 1'
    """

    def flag(match: re.Match) -> str:
        name, value = match[1], match[2]
        option = "--" + name.replace("_", "-")
        if option not in options or ("_" not in name and value is None):  # a plain word stays a word
            return match[0]
        return f"{option} {value}" if value is not None else option

    return re.sub(r"(?<![\w.-])([a-z][a-z0-9]*(?:_[a-z0-9]+)*)(?:=([^\s,;)]+))?", flag, message)


def _one_line_warning(command: str, options: set[str]):
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"freqprobe {command}: warning: {in_flag_terms(str(message), options)}", file=sys.stderr)

    return show
