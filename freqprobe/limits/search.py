"""The adaptive search: bisection on log amplitude for the smallest amplitude detected.

Detection is tested at both ends of the amplitude range first, then the bracket is halved
(in log amplitude) ``steps`` times: after them the threshold lies in ``[low, high]`` with
``high / low = (max / min) ** (1 / 2 ** steps)``, for ``steps + 2`` trainings instead of a
sweep. The search assumes detection grows with amplitude (true on average; near the
threshold a single training is a coin flip, which is the bracket's own uncertainty).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Generator

from ..errors import FreqprobeError


@dataclasses.dataclass(frozen=True)
class Bracket:
    """The threshold lies in ``[low, high]``: ``low`` was not detected (0: nothing tested
    below ``high``), ``high`` was (``inf``: not even the largest amplitude)."""

    low: float
    high: float

    @property
    def threshold(self) -> float:
        """The geometric middle of the bracket; ``high`` when it starts at 0; ``inf`` when open."""
        if math.isinf(self.high):
            return math.inf
        return self.high if self.low == 0 else math.sqrt(self.low * self.high)


def bracket_threshold(
    detected: Callable[[float], bool], smallest: float, largest: float, steps: int, whole: bool = False
) -> Bracket:
    """Bracket the smallest amplitude in ``[smallest, largest]`` where ``detected(amplitude)``."""
    search = bisection(smallest, largest, steps, whole)
    amplitude = next(search)
    while True:
        try:
            amplitude = search.send(detected(amplitude))
        except StopIteration as stop:
            return stop.value


def bisection(smallest: float, largest: float, steps: int, whole: bool = False) -> Generator[float, bool, Bracket]:
    """The search as a generator: it yields each amplitude to test, is sent whether it was
    detected, and returns the ``Bracket`` (so many searches can advance in lock-step).
    ``whole``: amplitudes are whole numbers (each middle rounded; the search stops when no
    whole number is left between the ends). Checks the range at creation."""
    if not 0 < smallest < largest or steps < 0:
        raise FreqprobeError(f"amplitudes must satisfy 0 < smallest < largest and steps >= 0, got {smallest}, {largest}, {steps}")
    return _bisect(smallest, largest, steps, whole)


def _bisect(smallest: float, largest: float, steps: int, whole: bool) -> Generator[float, bool, Bracket]:
    if not (yield largest):
        return Bracket(largest, math.inf)
    if (yield smallest):
        return Bracket(0.0, smallest)
    low, high = smallest, largest
    for _ in range(steps):
        middle = math.sqrt(low * high)
        if whole:
            middle = float(round(middle))
            if not low < middle < high:
                break
        if (yield middle):
            high = middle
        else:
            low = middle
    return Bracket(low, high)


def evaluations_per_search(steps: int) -> int:
    """The most detection tests one search makes (the family its correction covers)."""
    return steps + 2
