"""Detection limits: the smallest planted difference each detector finds, per frequency."""

from __future__ import annotations

from .audiogram import DetectionLimits, detection_limits
from .detectors import Detector, LinearDetector, NetworkDetector
from .probes import frequency_grid, plant_sinusoid
from .search import Bracket, bracket_threshold

__all__ = [
    "Bracket",
    "DetectionLimits",
    "Detector",
    "LinearDetector",
    "NetworkDetector",
    "bracket_threshold",
    "detection_limits",
    "frequency_grid",
    "plant_sinusoid",
]
