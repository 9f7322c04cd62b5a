"""Band importance: the mean attribution over images, a bootstrap 95% interval, and a rank."""

from __future__ import annotations

import numpy as np
import pandas as pd

BOOTSTRAP_CHUNK = 100  # resamples held at once: (chunk, N) counts, bounded for large sets


def bootstrap_interval(
    values: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the column means of ``values (N, B)``, resampling rows (images).

    Each resample draws N images with replacement (multinomial counts), so memory stays
    ``(chunk, N)`` whatever ``n_boot``. Fixed ``seed``, same interval.
    """
    n = values.shape[0]
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, n_boot, BOOTSTRAP_CHUNK):
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=min(BOOTSTRAP_CHUNK, n_boot - start))
        means.append(counts @ values / n)
    means = np.concatenate(means)
    tail = (1 - level) / 2 * 100
    return np.percentile(means, tail, axis=0), np.percentile(means, 100 - tail, axis=0)


def importance_table(
    per_image: dict[str, np.ndarray], labels: np.ndarray, bands: pd.DataFrame, n_boot: int, seed: int
) -> pd.DataFrame:
    """``bands.csv``: per method, image group and band, the ``importance`` (mean over images),
    ``ci_low, ci_high`` and ``rank``.

    ``per_image`` maps a method to its attributions ``(N, B)``; ``labels`` (0 real, 1 fake)
    give the groups ``all``, ``real`` and ``fake``; ``bands`` is ``BandLayout.table``.
    Rank 1 is the most important band of a method and group (ties: lower band first).
    """
    groups = {"all": np.ones(len(labels), dtype=bool), "real": labels == 0, "fake": labels == 1}
    parts = []
    for method, values in per_image.items():
        for group, members in groups.items():
            if not members.any():
                continue
            low, high = bootstrap_interval(values[members], n_boot, seed)
            table = bands.copy()
            table.insert(0, "method", method)
            table.insert(1, "images", group)
            table["importance"] = values[members].mean(axis=0)
            table["ci_low"], table["ci_high"] = low, high
            table["rank"] = table["importance"].rank(ascending=False, method="first").astype(int)
            parts.append(table)
    columns = ["method", "images", "band", "f_lo", "f_hi", "angle_lo", "angle_hi", "importance", "ci_low", "ci_high"]
    return pd.concat(parts, ignore_index=True)[[*columns, "rank", "n_frequencies"]]
