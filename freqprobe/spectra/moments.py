"""Streaming means and standard errors over images, in float64."""

from __future__ import annotations

import torch
from torch import Tensor


class RunningMoments:
    """Count, sum and (unless ``squares=False``) sum of squares of per-image values, by batch.

    Each batch is summed over its images in its own dtype (pairwise, at most one batch of
    terms), then added to float64 running totals, so a set of any length accumulates
    without drift.

    Example:
        >>> m = RunningMoments()
        >>> m.add(torch.tensor([[1.0], [2.0]])); m.add(torch.tensor([[3.0], [6.0]]))
        >>> m.count, m.mean.tolist(), m.variance.tolist()
        (4, [3.0], [4.666666666666667])
    """

    def __init__(self, squares: bool = True) -> None:
        self.count = 0
        self.total: Tensor | None = None
        self.squares: Tensor | None = None
        self.track_squares = squares

    def add(self, values: Tensor, overwrite: bool = False) -> None:
        """Add a batch ``(B, ...)`` of per-image values.

        With ``overwrite=True`` the squares are taken in place (``values`` is destroyed),
        which saves a batch-sized temporary.
        """
        total = values.sum(0).double()
        squares = None
        if self.track_squares:
            squares = (values.square_() if overwrite else values.square()).sum(0).double()
        self.add_totals(total, squares, values.shape[0])

    def add_totals(self, total: Tensor, squares: Tensor | None, count: int) -> None:
        """Add sums (and sums of squares) over ``count`` values that the caller formed itself."""
        self.total = total.to(torch.float64, copy=True) if self.total is None else self.total.add_(total)
        if self.track_squares:
            if squares is None:
                raise ValueError("this RunningMoments tracks squares; pass their sum")
            self.squares = squares.to(torch.float64, copy=True) if self.squares is None else self.squares.add_(squares)
        self.count += count

    @property
    def mean(self) -> Tensor:
        """Mean over images, float64 ``(...)``."""
        return self.total / self.count

    @property
    def variance(self) -> Tensor:
        """Unbiased variance over images (0 for a single image), float64 ``(...)``."""
        if self.squares is None:
            raise ValueError("this RunningMoments was made with squares=False")
        mean = self.mean
        spread = (self.squares - self.count * mean.square()).clamp_min(0)
        return spread / max(self.count - 1, 1)

    @property
    def standard_error(self) -> Tensor:
        """Standard error of the mean, float64 ``(...)``."""
        return (self.variance / self.count).sqrt()
