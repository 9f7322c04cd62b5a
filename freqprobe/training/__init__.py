"""The fast trainer: one readable loop, data resident as uint8, variants filtered per batch."""

from __future__ import annotations

from .data import LabelledImages
from .recipe import Recipe
from .trainer import predict_proba, train_classifier

__all__ = ["LabelledImages", "Recipe", "predict_proba", "train_classifier"]
