"""Loading a user's classifier: an ``nn.Module``, a callable, ``module:factory`` with a
weights file, or a TorchScript file. Every model takes float images in [0, 1],
``(N, 3, H, W)``, and returns ``(N, K)`` logits (or scores: anything whose arg-max is the
decision); a model trained on normalised inputs carries its normalisation inside.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from ..errors import FreqprobeError, one_line


class CallableModel(nn.Module):
    """An ``nn.Module`` around a plain function of a float batch (say, a generative
    classifier that scores each class by a likelihood): it has no parameters to train."""

    def __init__(self, function: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: Tensor) -> Tensor:
        return torch.as_tensor(self.function(x))


def load_model(source, weights: str | os.PathLike | None = None) -> nn.Module:
    """A classifier in eval mode from ``source``.

    Args:
        source: an ``nn.Module``; a callable returning logits; ``"module:factory"`` (the
            factory is called with no arguments); or the path of a TorchScript file.
        weights: a state-dict file for a ``module:factory`` model, loaded with
            ``torch.load(weights_only=True)`` (never unpickling arbitrary objects); an
            error with any other kind of model.

    ``module`` is imported as ``python -m`` would find it: from ``sys.path`` and, after
    it, the current working folder (so an installed ``freqprobe`` command finds
    ``mymodels.py`` in the folder it is run from).

    Raises:
        FreqprobeError: a factory that cannot be imported or fails, weights that do not
            fit, a file that is neither TorchScript nor found.
    """
    if isinstance(source, nn.Module):
        model, kind = source, "an nn.Module (load its weights yourself)"
    elif callable(source):
        model, kind = CallableModel(source), "a callable"
    elif isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        model, kind = _torchscript(Path(source)), "a TorchScript file (it carries its own weights)"
    elif isinstance(source, str) and ":" in source:
        model, kind = build_from_factory(source), None
    else:
        raise FreqprobeError(f"model {source!r}: not a file, an nn.Module, a callable or module:factory")
    if weights is not None:
        if kind is not None:
            shown = source if isinstance(source, (str, os.PathLike)) else "this model"
            raise FreqprobeError(f"weights= goes with a module:factory model; {shown} is {kind}")
        _load_weights(model, Path(weights))
    return model.eval()


def _torchscript(path: Path) -> nn.Module:
    if not zipfile.is_zipfile(path):
        raise FreqprobeError(f"{path}: not a TorchScript file (give a state dict as weights= with module:factory)")
    try:
        with warnings.catch_warnings():  # loading stays supported; torch's notice is about writing new ones
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FreqprobeError(f"{path}: not a TorchScript file ({first}); a state dict goes with module:factory") from None


def build_from_factory(name: str, **arguments) -> nn.Module:
    """``factory(**arguments)`` for ``name`` = ``"module:factory"``, with one-line errors."""
    module_name, _, factory_name = name.partition(":")
    _add_working_folder()
    try:
        factory = getattr(importlib.import_module(module_name), factory_name)
    except ModuleNotFoundError as err:
        where = f"{err}; searched sys.path and the current folder {os.getcwd()}"
        raise FreqprobeError(f"model {name!r}: cannot import {factory_name} from {module_name} ({where})") from None
    except (ImportError, AttributeError) as err:
        raise FreqprobeError(f"model {name!r}: cannot import {factory_name} from {module_name} ({one_line(err)})") from None
    call = f"{factory_name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    try:
        model = factory(**arguments)
    except Exception as err:  # a user's factory can fail in any way
        raise FreqprobeError(f"model {name!r}: {call} failed: {one_line(err)}") from None
    if not isinstance(model, nn.Module):
        raise FreqprobeError(f"model {name!r}: the factory returned {type(model).__name__}, not an nn.Module")
    return model


def _add_working_folder() -> None:
    """Let ``import`` find modules in the current folder, as ``python -m`` does (an
    installed console script has only its own folder on ``sys.path``). Appended, so the
    folder never shadows an installed package."""
    here = os.getcwd()
    on_path = {os.path.realpath(entry or here) for entry in sys.path if isinstance(entry, str)}
    if os.path.realpath(here) not in on_path:
        sys.path.append(here)
        importlib.invalidate_caches()


def _load_weights(model: nn.Module, path: Path) -> None:
    if not path.is_file():
        raise FreqprobeError(f"{path}: weights file not found")
    state = load_safely(path)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # a common checkpoint layout
    if not isinstance(state, dict):
        raise FreqprobeError(f"{path}: expected a state dict, found {type(state).__name__}")
    mismatch = _mismatch(model.state_dict(), state)
    if mismatch:
        raise FreqprobeError(f"{path}: weights do not fit the model {type(model).__name__} ({mismatch})")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:  # what the key and shape check above does not see
        text = " ".join(line.strip() for line in str(err).strip().splitlines() if line.strip())
        raise FreqprobeError(f"{path}: weights do not fit the model {type(model).__name__} ({text[:300]})") from None


#: What to do with a file that safe loading refuses.
EXPORT_HINT = "save a state dict instead, torch.save(model.state_dict(), PATH), and give it with module:factory"


def load_safely(path: Path):
    """``torch.load(path, weights_only=True)`` on the CPU, its refusals in one line that says why."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors of many kinds, and torch's multi-paragraph explanations
        text = " ".join(str(err).split())
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if refused:
            why = f"it holds a pickled {refused[1]}, not only tensors"
        else:
            detail = re.search(r"WeightsUnpickler error: (.+?)(?: Check the documentation|$)", text)
            why = f"not a weights file ({(detail[1] if detail else text or type(err).__name__)[:200].strip()})"
        raise FreqprobeError(f"{path}: refused by safe loading (torch.load weights_only=True): {why}; {EXPORT_HINT}") from None


def _mismatch(own: dict, state: dict, shown: int = 3) -> str:
    """A one-line summary of how a state dict differs from a model's: counts, and the
    first few missing and unexpected keys and shape mismatches; empty when it fits."""

    def listed(items: list[str]) -> str:
        more = f", and {len(items) - shown} more" if len(items) > shown else ""
        return ", ".join(items[:shown]) + more

    missing = [str(key) for key in own if key not in state]
    unexpected = [str(key) for key in state if key not in own]
    shapes = [
        f"{key} {tuple(state[key].shape)} in the file vs {tuple(own[key].shape)} in the model"
        for key in own
        if key in state and isinstance(state[key], Tensor) and state[key].shape != own[key].shape
    ]
    found = (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes))
    return "; ".join(f"{what}: {len(keys)} ({listed(keys)})" for what, keys in found if keys)
