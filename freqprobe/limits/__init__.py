"""Detection limits: the smallest planted difference each detector finds (per frequency for grid probes)."""

from __future__ import annotations

from .audiogram import DetectionLimits, detection_limits
from .detectors import Detector, LinearDetector, NetworkDetector
from .kinds import PROBES, Probe
from .probes import frequency_grid, noise_band_mask, plant_colour_cast, plant_jpeg, plant_noise_band, plant_sinusoid
from .search import Bracket, bisection, bracket_threshold

__all__ = [
    "Bracket",
    "DetectionLimits",
    "Detector",
    "LinearDetector",
    "NetworkDetector",
    "PROBES",
    "Probe",
    "bisection",
    "bracket_threshold",
    "detection_limits",
    "frequency_grid",
    "noise_band_mask",
    "plant_colour_cast",
    "plant_jpeg",
    "plant_noise_band",
    "plant_sinusoid",
]
