"""The training recipe: every hyper-parameter in one place, part of each run's identity."""

from __future__ import annotations

import dataclasses
import math

from ..errors import FreqprobeError
from ..suggest import did_you_mean


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a classifier is trained.

    AdamW with a one-cycle schedule (linear warm-up over ``warmup`` of the steps, then
    linear decay to zero), cross-entropy with optional label smoothing, no augmentation:
    flips and crops would move the very artifacts (checkerboards, JPEG grids) under study.
    ``whiten`` gives the built-in networks a fixed patch-whitening stem fitted on the
    training inputs (``models/whitening.py``); without it they learn their stem from
    standardised pixels (the ``plain`` recipe). ``readout`` adds to their logits a linear
    read-out of whole-image spectral statistics, fitted before training, and trains the
    network on top of its held-out logits (``models/spectral.py``; without it, the
    ``spatial`` recipe: the network alone).
    """

    epochs: int = 6
    batch_size: int = 256
    lr: float = 4e-3
    weight_decay: float = 5e-4
    warmup: float = 0.25
    label_smoothing: float = 0.0
    #: Small sets train for more epochs (and smaller batches) until they get this many steps.
    min_steps: int = 60
    whiten: bool = True
    readout: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or not self.lr > 0 or not 0 <= self.warmup < 1 or self.min_steps < 0:
            raise FreqprobeError(
                f"invalid recipe {self}: epochs >= 1, batch_size >= 2 (BatchNorm needs two images), lr > 0, "
                "0 <= warmup < 1, min_steps >= 0"
            )

    def schedule(self, n_train: int) -> tuple[int, int]:
        """``(batch size, epochs)`` for ``n_train`` images: at least 8 batches an epoch and
        ``min_steps`` steps in all, so a small set is not left nearly untrained; never batches
        of one image (BatchNorm cannot normalise a single image with a 1x1 feature map)."""
        batch_size = max(2, min(self.batch_size, n_train // 8))
        steps_per_epoch = math.ceil(n_train / batch_size)
        return batch_size, max(self.epochs, math.ceil(self.min_steps / steps_per_epoch))

    @property
    def label(self) -> str:
        """The name of the named recipe it starts from, then the fields that differ from it."""
        base = next(
            (name for name, r in RECIPES.items() if (r.whiten, r.readout) == (self.whiten, self.readout)), None
        )
        if base is None:
            return ",".join(["whitened" if self.whiten else "plain", f"readout={self.readout}", *_changed(self, Recipe())])
        return ",".join([base, *_changed(self, RECIPES[base])])


def _changed(recipe: Recipe, reference: Recipe) -> list[str]:
    """``field=value`` for the training fields (not the stems) where ``recipe`` differs."""
    return [
        f"{f.name}={getattr(recipe, f.name)}"
        for f in dataclasses.fields(recipe)
        if f.name not in ("whiten", "readout") and getattr(recipe, f.name) != getattr(reference, f.name)
    ]


#: Recipes by name (``fp.ablate(recipe="plain")``, ``freqprobe ablate --recipe plain``): the
#: default; the same network without the spectral read-out; a plain CNN (learned stem).
RECIPES = {"whitened": Recipe(), "spatial": Recipe(readout=False), "plain": Recipe(whiten=False, readout=False)}


def get_recipe(recipe: Recipe | str) -> Recipe:
    """A ``Recipe`` from itself or its name."""
    if isinstance(recipe, Recipe):
        return recipe
    if not isinstance(recipe, str):
        raise FreqprobeError(f"unknown recipe {recipe!r}; choose {', '.join(RECIPES)} or pass a Recipe")
    if recipe not in RECIPES:
        raise FreqprobeError(
            f"unknown recipe {recipe!r}{did_you_mean(recipe, RECIPES)}; choose {', '.join(RECIPES)} or pass a Recipe"
        )
    return RECIPES[recipe]
