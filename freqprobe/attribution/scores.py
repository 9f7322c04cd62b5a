"""What is attributed: one score per image, read from a classifier's logits.

``target="margin"`` (default): each image's own class logit minus the other class's (the
fake minus the real logit for generated images, the reverse for real ones): the log-odds of
the correct decision for a binary softmax model, so an importance says how much a band or
a pixel supports the *correct* decision, and a shift common to both logits (which a softmax
ignores) does not move it. ``target="true"``: the own class logit alone. An int ``k``:
logit ``k`` for every image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..errors import FreqprobeError, one_line
from ..transforms import Transform

TARGETS = ("true", "margin")


@dataclasses.dataclass(frozen=True)
class Target:
    """Which logit columns a ``DecisionScores`` keeps, whether it takes margins, and per-image targets."""

    columns: tuple[int, ...]
    margin: bool
    per_class: bool  # True: image of class c (0 real, 1 fake) reads column c; False: column 0 for all

    def indices(self, labels: Tensor) -> Tensor:
        """The Captum ``target`` of each image, from labels (0 real, 1 fake)."""
        return labels if self.per_class else torch.zeros_like(labels)


def resolve_target(target: str | int, classes: tuple[int, int], n_logits: int) -> Target:
    """Check ``target`` and the class columns against the model's number of logits.

    Raises:
        FreqprobeError: an unknown target, or a class or target column out of range.
    """
    for name, column in (("real class", classes[0]), ("fake class", classes[1]), ("target", target)):
        if isinstance(column, int) and not isinstance(column, bool) and not 0 <= column < n_logits:
            raise FreqprobeError(
                f"{name}={column} is out of range: the model gives {n_logits} logits (0..{n_logits - 1})"
            )
    if classes[0] == classes[1]:
        raise FreqprobeError(f"classes={classes}: the real and fake classes must differ")
    if isinstance(target, int) and not isinstance(target, bool):
        return Target((target,), margin=False, per_class=False)
    if target not in TARGETS:
        raise FreqprobeError(f"target={target!r}; choose true, margin or a class index")
    return Target(tuple(classes), margin=target == "margin", per_class=True)


class DecisionScores(nn.Module):
    """``model(variant(x))`` reduced to the attributed columns: ``(N, 3, H, W) -> (N, len(columns))``."""

    def __init__(self, model: nn.Module, target: Target, variant: Transform | None = None) -> None:
        super().__init__()
        self.model = model
        self.variant = variant
        self.target = target

    def logits(self, x: Tensor) -> Tensor:
        return self.model(x if self.variant is None else self.variant(x))

    def forward(self, x: Tensor) -> Tensor:
        scores = self.logits(x)[:, list(self.target.columns)]
        return scores - scores.flip(1) if self.target.margin else scores


@torch.no_grad()
def count_logits(model: Callable[[Tensor], Tensor], sample: Tensor) -> int:
    """K, after checking that ``model`` maps the float batch ``sample (2, 3, H, W)`` to ``(2, K)``.

    Raises:
        FreqprobeError: the model fails on the batch, or returns anything but ``(2, K >= 2)``.
    """
    shape = "(2, 3, {}, {})".format(*sample.shape[-2:])
    try:
        out = model(sample)
    except Exception as err:  # a user's model can fail in any way
        raise FreqprobeError(f"the model fails on a {shape} batch of images: {one_line(err)}") from None
    if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[0] != 2 or out.shape[1] < 2:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise FreqprobeError(
            f"the model must map (N, 3, H, W) images to (N, K >= 2) logits; a {shape} batch gave {got}"
        )
    if not torch.isfinite(out).all():
        raise FreqprobeError(f"the model gives NaN or infinite logits on a {shape} batch of images; check the model")
    return int(out.shape[1])
