"""Generative classifiers: a class-conditional diffusion model as a classifier like any other."""

from __future__ import annotations

from .classifier import DiffusionClassifier, diffusion_classifier, plan_stages
from .gaussian import GaussianClasses
from .schedule import ddpm_alphas_cumprod

__all__ = ["DiffusionClassifier", "GaussianClasses", "ddpm_alphas_cumprod", "diffusion_classifier", "plan_stages"]
