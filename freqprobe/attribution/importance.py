"""Band importance: the mean attribution over images, a bootstrap 95% interval, and a rank.

The ``all`` group weighs the two classes equally (the mean of the real and the fake means),
so that with the ``margin`` target a shift of the decision score common to every image
cancels, and a larger set does not outweigh a smaller one; its bootstrap resamples images
within each class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BOOTSTRAP_CHUNK = 100  # resamples held at once: (chunk, N) counts, bounded for large sets


def bootstrap_interval(
    values: np.ndarray,
    n_boot: int,
    seed: int,
    level: float = 0.95,
    strata: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the column means of ``values (N, B)``, resampling rows (images).

    Each resample draws N images with replacement (multinomial counts), so memory stays
    ``(chunk, N)`` whatever ``n_boot``. With ``strata`` (boolean masks of the rows), each
    stratum is resampled on its own and the statistic is the mean of the strata's means.
    Fixed ``seed``, same interval.
    """
    rng = np.random.default_rng(seed)
    parts = [values] if strata is None else [values[members] for members in strata]
    means = []
    for start in range(0, n_boot, BOOTSTRAP_CHUNK):
        size = min(BOOTSTRAP_CHUNK, n_boot - start)
        chunk = 0.0
        for part in parts:
            n = part.shape[0]
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=size)
            chunk = chunk + counts @ part / n / len(parts)
        means.append(chunk)
    means = np.concatenate(means)
    tail = (1 - level) / 2 * 100
    return np.percentile(means, tail, axis=0), np.percentile(means, 100 - tail, axis=0)


def importance_table(
    per_image: dict[str, np.ndarray], labels: np.ndarray, bands: pd.DataFrame, n_boot: int, seed: int
) -> pd.DataFrame:
    """``bands.csv``: per method, image group and band, the ``importance`` (mean over images;
    for ``all`` the mean of the two class means), ``ci_low, ci_high`` and ``rank``.

    ``per_image`` maps a method to its attributions ``(N, B)``; ``labels`` (0 real, 1 fake)
    give the groups ``all``, ``real`` and ``fake``; ``bands`` is ``BandLayout.table``.
    Rank 1 is the most important band of a method and group (ties: lower band first).
    """
    classes = [labels == 0, labels == 1]
    present = [members for members in classes if members.any()]
    groups = {"all": None, "real": classes[0], "fake": classes[1]}
    parts = []
    for method, values in per_image.items():
        for group, members in groups.items():
            if members is None:  # all: the classes weigh the same
                importance = np.mean([values[m].mean(axis=0) for m in present], axis=0)
                low, high = bootstrap_interval(values, n_boot, seed, strata=present)
            elif members.any():
                importance = values[members].mean(axis=0)
                low, high = bootstrap_interval(values[members], n_boot, seed)
            else:
                continue
            table = bands.copy()
            table.insert(0, "method", method)
            table.insert(1, "images", group)
            table["importance"] = importance
            table["ci_low"], table["ci_high"] = low, high
            table["rank"] = table["importance"].rank(ascending=False, method="first").astype(int)
            parts.append(table)
    columns = ["method", "images", "band", "f_lo", "f_hi", "angle_lo", "angle_hi", "importance", "ci_low", "ci_high"]
    return pd.concat(parts, ignore_index=True)[[*columns, "rank", "n_frequencies"]]
