"""Classifier architectures, by name: ``fast`` (default), ``resnet18``, or ``module:factory``."""

from __future__ import annotations

from .registry import MODELS, Classifier, build_classifier

__all__ = ["MODELS", "Classifier", "build_classifier"]
