"""How the default recipe stacks the network on its spectral read-out.

The read-out (``models/spectral.py``) is fitted first, on every training image, and gives
each of them a held-out logit. The network is then trained on the sum of its logits and
those, on seven eighths of the training images; the last eighth (``weighing``) is held out
of its training to weigh it: ``network_gain`` is the scale of its logits that minimises the
cross-entropy of ``gain * network + read-out`` there. A network that only memorised its
training images (a faint global pattern its local filters cannot isolate, a small set)
gets a gain near 0, and the classifier is then the read-out, as sensitive as the linear
detector; one that found evidence of its own keeps it (docs/limits.md measures both).
The input standardisation, whitening stem and read-out are fitted on every training image
(the first two without labels; the read-out's logits of the weighing images are held out).
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor

from ..models import Classifier
from ..models.spectral import fit_gain, stratified_folds

#: The share of the training images held out of the network's training to weigh it...
WEIGHING_SHARE = 1 / 8
#: ...but at most this many images (one gain needs few), and only when every class
#: gives it at least ``MIN_PER_CLASS`` images (else the network is trained on all, gain 1).
WEIGHING_MAX = 2048
MIN_PER_CLASS = 32


@dataclasses.dataclass(frozen=True)
class Stacking:
    """Positions the network trains on (``fit``) and weighs itself on (``weighing``, maybe
    empty), and the read-out's held-out logits of every training image (``None``: no read-out)."""

    fit: Tensor
    weighing: Tensor
    readout: Tensor | None

    def readout_logits(self, positions: Tensor) -> Tensor | None:
        """The read-out's held-out logits of the training images at ``positions``."""
        return None if self.readout is None else self.readout[positions.to(self.readout.device)]


def plan_stacking(model: Classifier, batches, labels: Tensor, seed: int) -> Stacking:
    """Fit ``model``'s read-out (if any) on the ``(inputs, labels)`` batches of its training
    images, in order, and choose which of them the network trains on (from ``seed``)."""
    readout = model.fit_readout(batches, seed)
    everything = torch.arange(len(labels))
    if readout is None:
        return Stacking(everything, everything[:0], None)
    labels = labels.cpu()
    counts = torch.bincount(labels)
    folds = max(round(1 / WEIGHING_SHARE), math.ceil(len(labels) / WEIGHING_MAX))
    if int(counts.min()) < MIN_PER_CLASS * folds:
        return Stacking(everything, everything[:0], readout)
    fold = stratified_folds(labels, folds, seed + 1)  # not the read-out's folds
    return Stacking(everything[fold != 0], everything[fold == 0], readout)


@torch.no_grad()
def weigh_network(model: Classifier, images, stacking: Stacking) -> None:
    """Set the read-out's ``network_gain`` on the held-out images (``images.batch``); nothing
    without them."""
    if not len(stacking.weighing):
        return
    model.eval()
    logits, labels = [], []
    for positions in stacking.weighing.split(1024):
        x, label = images.batch(positions)
        logits.append(model.net(model.standardize(x)).float().cpu())
        labels.append(label.cpu())
    offset = stacking.readout_logits(stacking.weighing).cpu()
    model.readout.network_gain.fill_(float(fit_gain(torch.cat(logits), torch.cat(labels), offset)))
