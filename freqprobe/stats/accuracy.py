"""Statistics of a classifier's test decisions.

A test accuracy is a binomial proportion: ``wilson_interval`` gives its score interval
(good coverage even near 0 or 1 and for small ``n``), ``binomial_p_value`` the one-sided
exact test against chance — the classifier two-sample test (Lopez-Paz & Oquab, 2017):
if the classifier beats chance on held-out images, the two distributions differ.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def wilson_interval(correct: float, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``correct / total`` (``correct`` may be a mean count over seeds).

    >>> lo, hi = wilson_interval(80, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.7112, 0.8666)
    """
    if total <= 0:
        raise ValueError(f"wilson_interval needs total > 0, got {total}")
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = correct / total
    denominator = 1 + z**2 / total
    centre = (p + z**2 / (2 * total)) / denominator
    half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denominator
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def binomial_p_value(correct: int, total: int, chance: float) -> float:
    """One-sided exact binomial p-value of ``correct`` or more successes at rate ``chance``.

    >>> round(binomial_p_value(60, 100, 0.5), 4)
    0.0284
    """
    return float(stats.binomtest(int(correct), int(total), chance, alternative="greater").pvalue)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for ``labels`` (1 positive, 0 negative).

    Binary: the Mann-Whitney statistic (ties count half). For ``scores`` of shape
    ``(N, K)`` and integer labels ``0..K-1``: the mean one-vs-rest AUC over classes.

    >>> roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    0.75
    """
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    if scores.ndim == 2:
        return float(np.mean([roc_auc(scores[:, k], labels == k) for k in range(scores.shape[1])]))
    positive = labels.astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
