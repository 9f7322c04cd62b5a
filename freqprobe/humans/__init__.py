"""Human observers: a local psychophysics page whose trials are written in model-vs-human's
raw-data format, so ``freqprobe consistency`` and ``fp.benchmark`` compare them with models."""

from __future__ import annotations

from .experiment import Experiment, build_2afc, build_categorise
from .serve import prepare, serve
from .summary import summary_table

__all__ = ["Experiment", "build_2afc", "build_categorise", "prepare", "serve", "summary_table"]
