"""Checks of plain arguments (counts, seeds, fractions), each failing in one line that names them."""

from __future__ import annotations

import numbers

from .errors import FreqprobeError


def check_int(value, name: str, minimum: int | None = None) -> int:
    """``value`` as an ``int`` (NumPy integers too, never a bool or a float), at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise FreqprobeError(f"{name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise FreqprobeError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(value, name: str) -> float:
    """``value`` as a ``float`` strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1:
        raise FreqprobeError(f"{name} must lie in (0, 1), got {value!r}")
    return float(value)
