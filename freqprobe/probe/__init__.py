"""Probing existing classifiers: robustness curves under distortions, shape bias on
cue-conflict images and error consistency, the protocol of the model-vs-human benchmark."""

from __future__ import annotations

from .benchmark import BenchmarkReport, benchmark
from .consistency import consistency_table, error_consistency
from .decisions import LABEL_MAPS
from .fourier_heatmap import FourierHeatmapReport, fourier_heatmap
from .distortions import DISTORTIONS, PRESETS, parse_conditions
from .labelled import LabelledImages, load_labelled
from .report import ProbeReport
from .run import probe
from .shape_bias import shape_bias, shape_bias_table
from .trials import image_id, read_trials

__all__ = [
    "BenchmarkReport",
    "DISTORTIONS",
    "LABEL_MAPS",
    "PRESETS",
    "FourierHeatmapReport",
    "LabelledImages",
    "ProbeReport",
    "benchmark",
    "consistency_table",
    "error_consistency",
    "fourier_heatmap",
    "image_id",
    "load_labelled",
    "parse_conditions",
    "probe",
    "read_trials",
    "shape_bias",
    "shape_bias_table",
]
