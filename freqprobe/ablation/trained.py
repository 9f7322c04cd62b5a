"""Any classifier a user has, as one ``nn.Module``: a study's trained model or their own."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..device import resolve_device
from ..errors import FreqprobeError
from ..models.loading import load_model
from .result import AblationResult


def resolve_model(
    source,
    *,
    weights: str | os.PathLike | None = None,
    variant: str = "original",
    seed: int | None = None,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """A classifier in eval mode on ``device``, taking float images in [0, 1].

    ``source`` is an ``AblationResult`` or an ``fp.ablate`` run folder (the model trained on
    ``variant`` with ``seed``, default the study's first), or anything ``load_model`` takes:
    an ``nn.Module``, a callable, ``"module:factory"`` (with ``weights``), a TorchScript file.
    A study's model carries its classes as ``class_names``.
    """
    if isinstance(source, (str, os.PathLike)) and (Path(source) / "results.csv").is_file():
        source = AblationResult.load(source)
    if isinstance(source, AblationResult):
        if weights is not None:
            raise FreqprobeError(f"weights= goes with a module:factory model, not a study ({weights})")
        return source.model(variant, seed, device=device)
    return load_model(source, weights).to(resolve_device(device))
