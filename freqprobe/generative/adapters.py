"""Noise predictors behind one interface: ``denoiser(x_t, t, k)`` with ``k`` the index of a
class among the classifier's classes, returning the predicted noise of ``x_t``'s shape.

A plain callable ``ε(x_t, t, c)``, a diffusers ``UNet2DModel`` with ``class_labels`` and a
``UNet2DConditionModel`` with one text embedding per class are wrapped here; an optional
VAE (``AutoencoderKL``) maps images to the latents the UNet denoises. diffusers itself is
never imported: its models are recognised by their class name.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import FreqprobeError

#: diffusers' model classes this module knows how to call.
CLASS_LABEL_UNETS = ("UNet2DModel",)
TEXT_UNETS = ("UNet2DConditionModel",)


def label_tensor(labels: Sequence[int]) -> Tensor:
    return torch.as_tensor([int(label) for label in labels], dtype=torch.long)


def diffusers_kind(model: Any) -> str | None:
    """The diffusers class name of ``model`` (or of a parent class), else ``None``."""
    for cls in type(model).__mro__:
        if cls.__module__.startswith("diffusers") and cls.__name__ in (*CLASS_LABEL_UNETS, *TEXT_UNETS):
            return cls.__name__
    return None


def parameter_dtype(module: nn.Module) -> torch.dtype:
    return next(module.parameters()).dtype


class CallableDenoiser(nn.Module):
    """``function(x_t, t, labels[k])``: a user's noise predictor (an ``nn.Module`` is kept
    as a sub-module, so it moves with ``.to(device)``)."""

    def __init__(self, function: Callable[[Tensor, Tensor, Tensor], Tensor], labels: Sequence[int]) -> None:
        super().__init__()
        self.function = function
        self.register_buffer("labels", label_tensor(labels), persistent=False)

    def forward(self, x_t: Tensor, t: Tensor, k: Tensor) -> Tensor:
        return torch.as_tensor(self.function(x_t, t, self.labels[k]))


class ClassLabelUNet(nn.Module):
    """A diffusers ``UNet2DModel`` conditioned by ``class_labels``."""

    def __init__(self, unet: nn.Module, labels: Sequence[int]) -> None:
        super().__init__()
        count = getattr(unet.config, "num_class_embeds", None)
        if not count:
            raise FreqprobeError("UNet2DModel has no class embedding (num_class_embeds is None); it cannot classify")
        bad = [label for label in labels if not 0 <= label < count]
        if bad:
            raise FreqprobeError(
                f"class label {bad[0]} is outside the UNet's {count} class embeddings (0..{count - 1})"
            )
        self.unet = unet
        self.register_buffer("labels", label_tensor(labels), persistent=False)

    def forward(self, x_t: Tensor, t: Tensor, k: Tensor) -> Tensor:
        return self.unet(x_t.to(parameter_dtype(self.unet)), t, class_labels=self.labels[k]).sample


class TextConditionUNet(nn.Module):
    """A diffusers ``UNet2DConditionModel`` with one text embedding ``(L, D)`` per class,
    passed as ``encoder_hidden_states``."""

    def __init__(self, unet: nn.Module, embeddings: Sequence[Tensor]) -> None:
        super().__init__()
        shapes = {tuple(e.shape[-2:]) for e in embeddings}
        if any(e.ndim not in (2, 3) or (e.ndim == 3 and len(e) != 1) for e in embeddings) or len(shapes) != 1:
            raise FreqprobeError("text embeddings: one (L, D) tensor per class, all of one shape")
        width = getattr(unet.config, "cross_attention_dim", None)
        if width is not None and not isinstance(width, (list, tuple)) and next(iter(shapes))[1] != width:
            raise FreqprobeError(f"text embeddings have width {next(iter(shapes))[1]}; the UNet expects {width}")
        self.unet = unet
        self.register_buffer("embeddings", torch.stack([e.reshape(e.shape[-2:]) for e in embeddings]).float(),
                             persistent=False)  # fmt: skip

    def forward(self, x_t: Tensor, t: Tensor, k: Tensor) -> Tensor:
        dtype = parameter_dtype(self.unet)  # a half-precision UNet takes half-precision inputs
        return self.unet(x_t.to(dtype), t, encoder_hidden_states=self.embeddings[k].to(dtype)).sample


class VaeEncoder(nn.Module):
    """Images in the VAE's range to latents: the posterior mean, shifted and scaled by the
    VAE's ``shift_factor`` (when it has one) and ``scaling_factor``, as diffusers' pipelines do."""

    def __init__(self, vae: nn.Module) -> None:
        super().__init__()
        self.vae = vae
        config = getattr(vae, "config", None)
        self.scale = float(getattr(config, "scaling_factor", None) or 1.0)
        self.shift = float(getattr(config, "shift_factor", None) or 0.0)

    def forward(self, x: Tensor) -> Tensor:
        latent = self.vae.encode(x.to(parameter_dtype(self.vae))).latent_dist.mean
        return ((latent - self.shift) * self.scale).float()


def class_conditions(classes: Sequence[str] | Mapping[str, Any]) -> tuple[tuple[str, ...], list[Any]]:
    """``(names, conditions)``: names with the k-th class's index, or a mapping's pairs."""
    if isinstance(classes, Mapping):
        names, conditions = tuple(str(name) for name in classes), list(classes.values())
    elif isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise FreqprobeError("classes: a sequence of class names, or a mapping name -> label (or text embedding)")
    else:
        names = tuple(str(name) for name in classes)
        conditions = list(range(len(names)))
    if len(names) < 2:
        raise FreqprobeError(f"a classifier needs at least 2 classes, got {len(names)}")
    if len(set(names)) != len(names):
        raise FreqprobeError("class names must be unique")
    return names, conditions


def wrap_denoiser(denoiser: Any, conditions: list[Any]) -> nn.Module:
    """The adapter for ``denoiser`` with the classes' conditions (labels or embeddings)."""
    kind = diffusers_kind(denoiser)
    if kind in TEXT_UNETS:
        if not all(isinstance(c, Tensor) for c in conditions):
            raise FreqprobeError("a UNet2DConditionModel needs classes as a mapping name -> text embedding (L, D)")
        return TextConditionUNet(denoiser, conditions)
    if not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in conditions):
        raise FreqprobeError("classes: give class labels (int) for a class-conditional denoiser")
    if kind in CLASS_LABEL_UNETS:
        return ClassLabelUNet(denoiser, conditions)
    if not callable(denoiser):
        raise FreqprobeError(
            f"denoiser: expected a callable eps(x_t, t, c), a UNet2DModel or a UNet2DConditionModel, "
            f"got {type(denoiser).__name__}"
        )
    return CallableDenoiser(denoiser, conditions)
