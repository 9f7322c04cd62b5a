"""``detection_limits``: the sensitivity audiogram of a study's detectors on a real set.

The real set is cut once into two halves of equal size (by ``split_seed``). One half stays
as it is; into the other a sinusoid of known frequency and amplitude is planted (random
phase per image, every channel alike, rounded to uint8), and each detector is trained to
tell the two halves apart on the same train/test split that ``fp.ablate`` would draw. Per
grid frequency and detector, a bisection on log amplitude (``search.py``) finds the
smallest amplitude detected: the Wilson interval of the test accuracy above chance (0.5)
at ``1 - 0.05 / (steps + 2)`` confidence, Bonferroni-corrected over the tests one search
makes. Two unrelated halves (not an image against its own planted copy) are what a real
study has to tell apart, on half its images: the limit errs on the safe side.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from ..ablation.tasks import build_tasks
from ..data import ImageSet, load_images
from ..device import resolve_device
from ..display import TableDisplay
from ..errors import FreqprobeError
from ..io import atomic_path, write_table
from ..models import MODELS
from ..stats import wilson_interval
from ..training import Recipe, get_recipe
from .detectors import Detector, LinearDetector, NetworkDetector
from .probes import frequency_grid, plant_sinusoid
from .search import bracket_threshold, evaluations_per_search
from .store import EvaluationStore, evaluation_key

#: Family-wise confidence of the detection tests of one search.
CONFIDENCE = 0.95
EVALUATION_COLUMNS = ["fy", "fx", "detector", "amplitude", "correct", "n_test", "accuracy", "ci_low", "detected"]


@dataclasses.dataclass(repr=False)
class DetectionLimits(TableDisplay):
    """One row per frequency in ``table``: ``fy, fx, radius`` and, per detector ``d``,
    ``threshold_d`` (grey levels) with its bracket ``threshold_d_low, threshold_d_high``;
    ``ratio`` = network / linear threshold when both were measured. ``evaluations`` holds
    every training the searches made; ``settings`` how the audiogram was measured."""

    table: pd.DataFrame
    evaluations: pd.DataFrame
    settings: dict[str, Any]
    folder: Path | None = None

    @property
    def detectors(self) -> list[str]:
        return list(self.settings["detectors"])

    def limit(self, detector: str = "network") -> float:
        """The largest amplitude any grid frequency needed: above it, every one was detected."""
        return float(self.table[f"threshold_{detector}_high"].max())

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``limits.csv``, ``evaluations.csv``, ``limits.json`` and ``limits.png/.pdf``."""
        from ..figures.limits import save_limits_figure

        folder = Path(folder)
        paths = [write_table(self.table, folder / "limits.csv"), write_table(self.evaluations, folder / "evaluations.csv")]
        with atomic_path(folder / "limits.json") as partial:
            partial.write_text(json.dumps(self.settings, indent=1) + "\n")
        paths.append(folder / "limits.json")
        return paths + save_limits_figure(self.table, self.detectors, folder / "limits")

    def plot(self):
        """Threshold maps over the half plane (one per detector) and the radial curves."""
        from ..figures.limits import plot_limits

        return plot_limits(self.table, self.detectors)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> DetectionLimits:
        folder = Path(folder)
        if not (folder / "limits.csv").exists() or not (folder / "limits.json").exists():
            raise FreqprobeError(f"{folder}: no limits.csv and limits.json (not an audiogram run folder)")
        settings = json.loads((folder / "limits.json").read_text())
        evaluations = pd.read_csv(folder / "evaluations.csv") if (folder / "evaluations.csv").exists() else pd.DataFrame()
        return cls(pd.read_csv(folder / "limits.csv"), evaluations, settings, folder)

    def describe(self) -> str:
        parts = [f"{len(self.table)} frequencies of {self.settings['size'][0]} px images"]
        parts += [f"{d} worst {self.limit(d):.3g} grey levels" for d in self.detectors]
        if "ratio" in self.table:
            parts.append(f"network / linear at most {self.table['ratio'].max():.3g}")
        return "; ".join(parts)


def detection_limits(
    real: ImageSet | str | os.PathLike,
    *,
    frequencies: Sequence[tuple[float, float]] | None = None,
    step: float = 0.125,
    amplitudes: tuple[float, float] = (0.25, 32.0),
    steps: int = 4,
    detectors: Sequence[str] | Mapping[str, Detector] = ("network", "linear"),
    model: str = "fast",
    recipe: Recipe | str = "whitened",
    seed: int = 0,
    split_seed: int = 0,
    test_size: float = 0.2,
    out: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> DetectionLimits:
    """The smallest sinusoid each detector finds, per frequency, on halves of ``real``.

    Args:
        real: the real set (an ``ImageSet`` or anything ``load_images`` reads).
        frequencies: ``(fy, fx)`` in cycles per pixel; default ``frequency_grid(step)``.
        amplitudes: the searched range in grey levels (``(smallest, largest)``).
        steps: bisections after testing both ends: the bracket's ratio is
            ``(largest / smallest) ** (1 / 2 ** steps)``.
        detectors: ``"network"`` (``model`` trained by ``recipe``, as ``fp.ablate`` does) and/or
            ``"linear"`` (the linear second opinion), or a mapping of names to ``Detector``s.
        seed: seeds the planted phases and the network's training.
        split_seed, test_size: the halves of ``real`` and their train/test split.
        out: run folder: each finished training is stored at once, a rerun resumes.

    Raises:
        FreqprobeError: a frequency outside the Nyquist square, bad amplitudes, too few
            images, an unknown detector or model, ``out`` not a folder — before any training.
    """
    real = real if isinstance(real, ImageSet) else load_images(real)
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise FreqprobeError(f"{out}: exists and is not a folder")
    grid = [(float(fy), float(fx)) for fy, fx in (frequency_grid(step) if frequencies is None else frequencies)]
    if not grid or any(not (abs(fy) <= 0.5 and abs(fx) <= 0.5) or fy == fx == 0 for fy, fx in grid):
        raise FreqprobeError(f"frequencies must be (fy, fx) in cycles per pixel, |f| <= 0.5 and not DC, got {grid}")
    smallest, largest = (float(a) for a in amplitudes)
    bracket_threshold(lambda a: True, smallest, largest, steps)  # checks the range now
    named = _detectors(detectors, model, get_recipe(recipe))
    half = len(real) // 2
    if half < 10:
        raise FreqprobeError(f"the real set has {len(real)} images; an audiogram needs at least 20")
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(split_seed))
    kept, planted_base = real[order[:half]], real.images[order[half : 2 * half]]
    device = resolve_device(device)
    store = EvaluationStore(out)
    fingerprint = real.fingerprint()
    confidence = 1 - (1 - CONFIDENCE) / evaluations_per_search(steps)
    settings = {
        "fingerprint": fingerprint, "size": list(real.size), "n_images": len(real), "probe": "sinusoid",
        "amplitudes": [smallest, largest], "steps": steps, "seed": seed, "split_seed": split_seed,
        "test_size": test_size, "confidence": confidence, "detectors": list(named),
        **_network_settings(named.get("network"), model, get_recipe(recipe)),
    }  # fmt: skip
    rows, evaluations = [], []
    budget = evaluations_per_search(steps)
    with tqdm(total=len(grid) * len(named) * budget, desc="trainings", disable=None if progress else True) as bar:
        for fy, fx in grid:
            row: dict[str, Any] = {"fy": fy, "fx": fx, "radius": math.hypot(fy, fx)}
            for name, detector in named.items():
                made = []

                def detected(amplitude: float) -> bool:
                    key = evaluation_key({**detector.identity, "data": fingerprint, "split_seed": split_seed,
                                          "test_size": test_size, "seed": seed, "probe": "sinusoid",
                                          "fy": fy, "fx": fx, "amplitude": round(amplitude, 9)})  # fmt: skip
                    record = store.get(key)
                    if record is None:
                        planted = ImageSet(plant_sinusoid(planted_base, fy, fx, amplitude, seed))
                        [task] = build_tasks({"real": kept, "planted": planted}, test_size, split_seed, False, False, False)
                        correct = detector.correct(task, seed, device)
                        record = {"fy": fy, "fx": fx, "detector": name, "amplitude": amplitude, "correct": correct,
                                  "n_test": len(task.test)}  # fmt: skip
                        store.put(key, record)
                    low = wilson_interval(record["correct"], record["n_test"], confidence)[0]
                    made.append({**record, "detector": name, "accuracy": record["correct"] / record["n_test"],
                                 "ci_low": low, "detected": bool(low > 0.5)})  # fmt: skip
                    bar.update()
                    return bool(low > 0.5)

                bracket = bracket_threshold(detected, smallest, largest, steps)
                bar.update(budget - len(made))
                evaluations += made
                row.update({f"threshold_{name}": bracket.threshold, f"threshold_{name}_low": bracket.low,
                            f"threshold_{name}_high": bracket.high})  # fmt: skip
            if progress and "network" in named and "linear" in named:
                bar.write(f"({fy:+.3f}, {fx:+.3f}) network {row['threshold_network']:.3g}, linear {row['threshold_linear']:.3g} grey levels")
            rows.append(row)
    table = pd.DataFrame(rows)
    if "network" in named and "linear" in named:
        table["ratio"] = table["threshold_network"] / table["threshold_linear"]
    result = DetectionLimits(table, pd.DataFrame(evaluations, columns=EVALUATION_COLUMNS), settings)
    if out is not None:
        result.save(out)
        result.folder = Path(out)
    return result


def _network_settings(network: Detector | None, model: str, recipe: Recipe) -> dict[str, str]:
    """The model and recipe label of the network measured (an ablation's limit needs both to match)."""
    if isinstance(network, NetworkDetector):
        model, recipe = network.model, network.recipe
    return {"model": model, "recipe": recipe.label}


def _detectors(detectors, model: str, recipe: Recipe) -> dict[str, Detector]:
    if isinstance(detectors, Mapping):
        named = dict(detectors)
    else:
        builtin = {"network": lambda: NetworkDetector(model, recipe), "linear": LinearDetector}
        unknown = [d for d in detectors if d not in builtin]
        if unknown:
            raise FreqprobeError(f"unknown detector {unknown[0]!r}; choose network and/or linear")
        named = {d: builtin[d]() for d in detectors}
    if not named:
        raise FreqprobeError("give at least one detector")
    if "network" in named and model not in MODELS:
        raise FreqprobeError(f"unknown model {model!r}; an audiogram trains one of {', '.join(MODELS)}")
    return named
