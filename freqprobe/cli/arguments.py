"""Argument types shared by several commands."""

from __future__ import annotations

import argparse
import re

SIZE_HELP = "center-crop every image to S x S, or H x W with HxW (default: sizes must agree)"
DEVICE_HELP = "auto (CUDA when available, else the CPU), cpu, cuda, cuda:1, ... (default: auto)"
#: Choices the commands offer, spelled here so that --help needs no torch import; tests check
#: them against the registries they name.
WINDOWS = ("hann", "none")
DENOISERS = ("gaussian", "median3", "median5", "wavelet")
BAND_METHODS = ("ablation", "shapley", "ig")
PIXEL_METHODS = ("ig", "smoothgrad", "gradcam", "occlusion")
MODELS = ("fast", "resnet18")
RECIPES = ("whitened", "plain")
PRESETS = ("model-vs-human",)


def crop_size(text: str) -> int | tuple[int, int]:
    """``S`` or ``HxW`` (positive ints), as ``load_images(size=...)`` takes it."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?", text)
    if not match or int(match[1]) < 1 or (match[2] is not None and int(match[2]) < 1):
        raise argparse.ArgumentTypeError(f"size must be S or HxW in pixels, got {text!r}")
    return int(match[1]) if match[2] is None else (int(match[1]), int(match[2]))
