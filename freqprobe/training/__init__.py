"""The fast trainer: one readable loop, data resident as uint8, variants filtered per batch."""

from __future__ import annotations

from .data import LabelledImages
from .linear import LinearProbe
from .recipe import RECIPES, Recipe, get_recipe
from .trainer import FilteredImages, predict_proba, train_classifier

__all__ = [
    "RECIPES",
    "FilteredImages",
    "LabelledImages",
    "LinearProbe",
    "Recipe",
    "get_recipe",
    "predict_proba",
    "train_classifier",
]
