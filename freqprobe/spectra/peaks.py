"""Peak finder: frequencies where a spectrum stands out from its own radius.

On a spectrum in dB, ``L`` (the report passes each set's per-frequency mean over images of
the residual's dB, the mean of log: a periodic artifact is in every generated image, while
a periodic texture in a few real images can dominate a mean of power but hardly moves a
mean of log): every frequency's background is the median of ``L`` over its
radial bin (``profiles.radial_bin_index``), widened to the neighbouring bins until the
annulus holds at least ``MIN_ANNULUS`` frequencies, and its spread is ``1.4826 * MAD``
there (at least ``MIN_SPREAD_DB``, so a noise-free spectrum still gives finite scores). The
score is the robust z ``(L - background) / spread``; ``excess_db`` is ``L - background``.
A peak is a local maximum over its 8 neighbours (the grid wraps around, as the FFT's does)
scoring at least ``min_score``; DC is never one.

Coordinates are the exact grid frequencies ``k / H, k / W`` in cycles/pixel, one row per
conjugate pair, taken in the half plane ``fx > 0 or (fx == 0 and fy >= 0)``. A Nyquist
coordinate (``k = H / 2`` for even ``H``) is its own conjugate and is written ``+0.5``
(``fftfreq`` writes ``-0.5``; it is the same frequency), and the Nyquist column
``fx = 0.5``, self-conjugate like ``fx = 0``, keeps ``fy >= 0``; so fy, fx lie in
``(-0.5, 0.5]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .profiles import radial_bin_index

MIN_ANNULUS = 32
MIN_SPREAD_DB = 0.01
MAD_TO_SD = 1.4826
MIN_SCORE = 6.0
MAX_PEAKS = 20
PEAK_COLUMNS = ["fy", "fx", "radius", "score", "excess_db", "level_db"]


def folded_frequency(index: np.ndarray, n: int) -> np.ndarray:
    """Grid index ``k`` in ``[0, n)`` -> frequency in ``(-0.5, 0.5]`` cycles/pixel (Nyquist ``+0.5``)."""
    return np.where(index <= n // 2, index, index - n) / n


def in_half_plane(fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """True for the one representative of each conjugate pair (folded frequencies, see above)."""
    self_conjugate_column = (fx == 0) | (fx == 0.5)
    return ((fx > 0) & (fx < 0.5)) | (self_conjugate_column & (fy >= 0))


def annulus_background(level_db: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frequency background (median) and spread (scaled MAD) of ``level_db`` over its annulus.

    Args:
        level_db: ``(H, W)`` spectrum in dB on the FFT grid.
        bins: ``(H, W)`` radial bins (``-1`` at DC, which is left out).

    Returns:
        Two ``(H, W)`` arrays (zeros at DC).
    """
    background = np.zeros_like(level_db)
    spread = np.zeros_like(level_db)
    order = np.argsort(bins, axis=None, kind="stable")
    sorted_bins = bins.ravel()[order]
    sorted_levels = level_db.ravel()[order]
    n_bins = int(bins.max()) + 1
    starts = np.searchsorted(sorted_bins, np.arange(n_bins + 1))
    for b in range(n_bins):
        lo, hi = b, b
        while starts[hi + 1] - starts[lo] < MIN_ANNULUS and (lo > 0 or hi < n_bins - 1):
            lo, hi = max(lo - 1, 0), min(hi + 1, n_bins - 1)
        annulus = sorted_levels[starts[lo] : starts[hi + 1]]
        if len(annulus) == 0:
            continue
        median = np.median(annulus)
        mad = np.median(np.abs(annulus - median))
        here = order[starts[b] : starts[b + 1]]
        background.flat[here] = median
        spread.flat[here] = max(MAD_TO_SD * mad, MIN_SPREAD_DB)
    return background, spread


def find_peaks(level_db: np.ndarray, min_score: float = MIN_SCORE, max_peaks: int = MAX_PEAKS) -> pd.DataFrame:
    """Peaks of a full-plane spectrum in dB ``(H, W)`` (FFT order, DC at ``[0, 0]``; Hermitian).

    Returns:
        A table with columns ``fy, fx, radius, score, excess_db, level_db``, strongest
        (highest score) first, at most ``max_peaks`` rows.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> level = rng.normal(0.0, 0.1, (32, 32))  # a flat, slightly noisy spectrum
        >>> level[4, 29] = level[-4, 3] = 3.0  # a conjugate pair at (fy, fx) = (4/32, -3/32)
        >>> find_peaks(level)[["fy", "fx"]].values.tolist()
        [[-0.125, 0.09375]]
    """
    height, width = level_db.shape
    bins = radial_bin_index(height, width).numpy()
    background, spread = annulus_background(level_db, bins)
    score = np.where(bins >= 0, level_db - background, 0.0) / np.where(bins >= 0, spread, 1.0)
    neighbours = [np.roll(level_db, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    local_max = level_db >= np.max(neighbours, axis=0)
    fy = folded_frequency(np.arange(height), height)[:, None] * np.ones((1, width))
    fx = np.ones((height, 1)) * folded_frequency(np.arange(width), width)[None, :]
    chosen = local_max & in_half_plane(fy, fx) & (bins >= 0) & (score >= min_score)
    table = pd.DataFrame(
        {
            "fy": fy[chosen],
            "fx": fx[chosen],
            "radius": np.hypot(fy[chosen], fx[chosen]),
            "score": score[chosen],
            "excess_db": (level_db - background)[chosen],
            "level_db": level_db[chosen],
        },
        columns=PEAK_COLUMNS,
    )
    return table.sort_values("score", ascending=False, kind="stable").head(max_peaks).reset_index(drop=True)
