"""From a model's outputs to a decision among class names.

Directly, output ``k`` is the score of ``class_names[k]`` and the decision is the arg-max.
Through a label map (class name -> output indices), the outputs are turned into
probabilities by a softmax, averaged over each class's indices, and the decision is the
arg-max over the mapped classes: model-vs-human's ``ImageNetProbabilitiesTo16ClassesMapping``.
``label_map="imagenet16"`` is that mapping of the 1000 ImageNet classes to 16 categories.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from ..errors import FreqprobeError
from ..suggest import did_you_mean

#: ImageNet class indices of the 16 entry-level categories (model-vs-human,
#: ``modelvshuman/helper/human_categories.py``).
IMAGENET16: dict[str, tuple[int, ...]] = {
    "airplane": (404,),
    "bear": (294, 295, 296, 297),
    "bicycle": (444, 671),
    "bird": (8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 23, 24, 80, 81, 82, 83, 87, 88, 89, 90, 91, 92, 93,
             94, 95, 96, 98, 99, 100, 127, 128, 129, 130, 131, 132, 133, 135, 136, 137, 138, 139, 140, 141,
             142, 143, 144, 145),
    "boat": (472, 554, 625, 814, 914),
    "bottle": (440, 720, 737, 898, 899, 901, 907),
    "car": (436, 511, 817),
    "cat": (281, 282, 283, 284, 285, 286),
    "chair": (423, 559, 765, 857),
    "clock": (409, 530, 892),
    "dog": (*range(152, 192), *range(193, 204), *range(205, 227), *range(228, 242), *range(243, 251),
            *range(252, 258), 259, *range(261, 264), *range(265, 269)),
    "elephant": (385, 386),
    "keyboard": (508, 878),
    "knife": (499,),
    "oven": (766,),
    "truck": (555, 569, 656, 675, 717, 734, 864, 867),
}  # fmt: skip
LABEL_MAPS: dict[str, dict[str, tuple[int, ...]]] = {"imagenet16": IMAGENET16}


@dataclasses.dataclass(frozen=True)
class Decider:
    """Turns ``(N, K)`` model outputs into class indices into ``class_names``."""

    class_names: tuple[str, ...]
    groups: tuple[tuple[int, ...], ...] | None = None  #: output indices per class (a label map)

    def check_outputs(self, outputs: Tensor, model: str) -> None:
        """Raise if outputs of this shape cannot be mapped to the classes."""
        if outputs.ndim != 2:
            raise FreqprobeError(f"model {model} returned shape {tuple(outputs.shape)}; expected (N, K) scores")
        k = outputs.shape[1]
        if self.groups is None and k != len(self.class_names):
            raise FreqprobeError(
                f"model {model} gives {k} outputs for {len(self.class_names)} classes "
                f"({', '.join(self.class_names)}); give class_names for its outputs, or a label_map"
            )
        largest = -1 if self.groups is None else max(max(group) for group in self.groups)
        if largest >= k:
            raise FreqprobeError(f"the label map uses output {largest}, but model {model} gives {k}")

    def decide(self, outputs: Tensor) -> Tensor:
        return self.scores(outputs).argmax(dim=1)

    def scores(self, outputs: Tensor) -> Tensor:
        """``(N, len(class_names))`` scores whose arg-max is the decision: the outputs, or
        through a label map the class probabilities averaged over each class's indices."""
        if self.groups is None:
            return outputs
        probabilities = torch.softmax(outputs.float(), dim=1)
        return probabilities @ self._averaging(outputs.shape[1], outputs.device)

    def _averaging(self, k: int, device: torch.device) -> Tensor:
        """``(K, C)``: column ``c`` averages the outputs of class ``c``'s indices."""
        weights = torch.zeros(k, len(self.groups), device=device)
        for c, group in enumerate(self.groups):
            weights[list(group), c] = 1.0 / len(group)
        return weights


def make_decider(
    data_classes: Sequence[str],
    class_names: Sequence[str] | None = None,
    label_map: str | Mapping[str, Sequence[int]] | None = None,
    model_classes: Sequence[str] | None = None,
    model: str = "model",
) -> Decider:
    """The decision rule for a model on images of ``data_classes``.

    ``class_names`` names the model's outputs in order; ``model_classes`` is the model's
    own naming of them (a study's classes, ``real`` first), and ``class_names`` may not
    contradict it; default: the data's classes. ``label_map`` maps class names to output
    indices instead. The data's classes are matched to the responses by name, and must
    all be among them.
    """
    if class_names is not None and label_map is not None:
        raise FreqprobeError("give class_names or label_map, not both")
    if isinstance(label_map, str):
        if label_map not in LABEL_MAPS:
            raise FreqprobeError(
                f"unknown label map {label_map!r}{did_you_mean(label_map, LABEL_MAPS)}; known: {', '.join(LABEL_MAPS)}"
            )
        label_map = LABEL_MAPS[label_map]
    if label_map is not None:
        groups = tuple(tuple(int(i) for i in indices) for indices in label_map.values())
        if any(not group or min(group) < 0 for group in groups):
            raise FreqprobeError("every class of the label map needs one or more output indices >= 0")
        decider = Decider(tuple(str(name) for name in label_map), groups)
        what = "the label map"
    elif model_classes is not None:
        own = tuple(str(n) for n in model_classes)
        if class_names is not None and tuple(str(n) for n in class_names) != own:
            raise FreqprobeError(
                f"model {model} has outputs for classes {', '.join(own)} (in this order), but class_names "
                f"says {', '.join(map(str, class_names))}; leave class_names out, or rename with a label_map"
            )
        decider = Decider(own)
        what = f"the classes of model {model}"
    else:
        decider = Decider(tuple(str(n) for n in (data_classes if class_names is None else class_names)))
        what = "the model's class names"
    missing = [name for name in data_classes if name not in decider.class_names]
    if missing:
        hint = "; name the data's class folders after them" if model_classes is not None and label_map is None else ""
        raise FreqprobeError(
            f"{what} do not cover the data's class {missing[0]!r} ({', '.join(decider.class_names)}){hint}"
        )
    return decider
