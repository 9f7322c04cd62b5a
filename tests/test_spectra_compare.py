"""Welch's t-test and Benjamini-Hochberg against SciPy; the ratio's floor."""

from __future__ import annotations

import numpy as np
from scipy import stats

from freqprobe.spectra.compare import benjamini_hochberg, power_ratio, welch_t_test


def test_welch_t_test_equals_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (20, 5)), rng.normal(0.5, 2, (31, 5))
    t, p = welch_t_test(a.mean(0), a.var(0, ddof=1), 20, b.mean(0), b.var(0, ddof=1), 31)
    expected = stats.ttest_ind(b, a, equal_var=False)
    assert np.allclose(t, expected.statistic) and np.allclose(p, expected.pvalue)


def test_zero_variance_gives_no_nan() -> None:
    zero = np.zeros(3)
    t, p = welch_t_test(np.array([1.0, 1.0, 1.0]), zero, 10, np.array([1.0, 2.0, 0.0]), zero, 10)
    assert t.tolist() == [0.0, np.inf, -np.inf] and p.tolist() == [1.0, 0.0, 0.0]


def test_benjamini_hochberg_equals_scipy() -> None:
    p = np.random.default_rng(1).uniform(0, 0.2, (7, 9))
    assert np.allclose(benjamini_hochberg(p), stats.false_discovery_control(p.ravel()).reshape(7, 9))


def test_power_ratio_is_finite_for_zero_power() -> None:
    ratio = power_ratio(np.array([0.0, 1e-3, 2.0]), np.array([0.0, 0.0, 1.0]))
    assert np.all(np.isfinite(ratio)) and ratio[0] == 1.0 and ratio[2] == 2.0
