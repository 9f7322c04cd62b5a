"""Confidence intervals and tests for classifier accuracies."""

from __future__ import annotations

from .accuracy import binomial_p_value, roc_auc, wilson_interval

__all__ = ["binomial_p_value", "roc_auc", "wilson_interval"]
