"""Comparing a generated set with the real one: ratio, spectral density error, significance.

The test, per frequency (2-D map) and per radial bin: Welch's unequal-variance t-test on the
per-image log power (dB) of the two sets, two-sided, with the Benjamini-Hochberg correction
over all frequencies (or bins) of one map at a false discovery rate of ``FDR``. Log power is
used because a periodogram value is exponentially distributed and its log is close to
normal; the test asks whether the typical image's power differs, while the ratio maps
show the ratio of mean powers.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .power import POWER_FLOOR

FDR = 0.05


def welch_t_test(
    mean_a: np.ndarray, var_a: np.ndarray, n_a: int, mean_b: np.ndarray, var_b: np.ndarray, n_b: int
) -> tuple[np.ndarray, np.ndarray]:
    """Welch's t and its two-sided p-value, elementwise, for ``b`` against ``a``.

    Zero variance in both sets gives ``t = 0, p = 1`` for equal means and ``t = +-inf,
    p = 0`` otherwise (never NaN).

    Example:
        >>> t, p = welch_t_test(np.array([0.0]), np.array([1.0]), 50, np.array([1.0]), np.array([1.0]), 50)
        >>> round(float(t[0]), 2), float(p[0]) < 1e-5
        (5.0, True)
    """
    va, vb = var_a / n_a, var_b / n_b
    pooled = va + vb
    difference = mean_b - mean_a
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(pooled > 0, difference / np.sqrt(pooled), np.sign(difference) * np.inf)
        dof_denominator = va**2 / max(n_a - 1, 1) + vb**2 / max(n_b - 1, 1)
        dof = np.where(dof_denominator > 0, pooled**2 / dof_denominator, n_a + n_b - 2)
    t = np.where(difference == 0, 0.0, t)
    p = 2 * stats.t.sf(np.abs(t), dof)
    return t, p


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (same shape): significant where ``<= FDR``.

    Example:
        >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
        [0.04, 0.053, 0.053, 0.5]
    """
    flat = p.ravel()
    order = np.argsort(flat)
    ranked = flat[order] * len(flat) / np.arange(1, len(flat) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty_like(flat)
    out[order] = adjusted
    return out.reshape(p.shape)


def power_ratio(fake_power: np.ndarray, real_power: np.ndarray) -> np.ndarray:
    """``fake / real`` of mean powers, both floored at ``POWER_FLOOR`` (finite for constant images)."""
    return np.maximum(fake_power, POWER_FLOOR) / np.maximum(real_power, POWER_FLOOR)
