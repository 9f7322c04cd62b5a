"""Errors that carry a one-line, user-facing reason (the CLI prints them as they are)."""

from __future__ import annotations


class FreqprobeError(ValueError):
    """Bad input to freqprobe: the message names the culprit and what was expected."""


def one_line(error: BaseException) -> str:
    """An exception's message on one line (a user's code can raise anything, in many lines)."""
    return " ".join(str(error).split()) or type(error).__name__


class SpecError(FreqprobeError):
    """A transform spec string that cannot be parsed or is out of range."""


class DataError(FreqprobeError):
    """An image source that cannot be loaded, or a set that cannot be used as asked."""


class TrainingError(FreqprobeError):
    """Training or scoring that cannot give a number worth reporting (a non-finite loss or score)."""
