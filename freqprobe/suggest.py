"""Did-you-mean suggestions for misspelt names in one-line errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'lowpass'?"`` for the closest known name, or ``""`` when none is close.

    Example:
        >>> did_you_mean("lowpas", ["lowpass", "highpass", "blur"])
        "; did you mean 'lowpass'?"
        >>> did_you_mean("xyz", ["lowpass"])
        ''
    """
    known = list(known)
    folded = {k.lower(): k for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(folded), n=1, cutoff=0.6)
    return f"; did you mean {folded[close[0]]!r}?" if close else ""
