"""``detection_limits``: the sensitivity audiogram of a study's detectors on a real set.

The real set is cut once into two halves of equal size (by ``split_seed``). One half stays
as it is; into the other a probe of known strength is planted (``kinds.py``: a sinusoid of
random phase per image, by default; a band of noise; a colour cast; a JPEG re-encoding),
rounded to uint8, and each detector is trained to tell the two halves apart on the same
train/test split that ``fp.ablate`` would draw. Per grid frequency (one search for the
probes without one) and detector, a bisection on log strength (``search.py``) finds the
smallest strength detected: the Wilson interval of the test accuracy above chance (0.5)
at ``1 - 0.05 / (steps + 2)`` confidence, Bonferroni-corrected over the tests one search
makes. The searches advance in lock-step rounds (``rounds.py``), a round's network
trainings together. Two unrelated halves (not an image against its own planted copy) are
what a real study has to tell apart, on half its images: the limit errs on the safe side.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from .._version import __version__
from ..data import ImageSet, load_images
from ..device import resolve_device
from ..display import TableDisplay
from ..errors import FreqprobeError
from ..execution import Executor
from ..execution.ray_session import check_executor
from ..io import atomic_path, write_table
from ..models import MODELS
from ..training import Recipe, get_recipe
from .detectors import Detector, LinearDetector, NetworkDetector
from .kinds import Probe, get_probe
from .probes import frequency_grid, plant_noise_band
from .rounds import Planting, Search, make_runner, run_searches
from .search import bisection, evaluations_per_search
from .store import EvaluationStore

#: Family-wise confidence of the detection tests of one search.
CONFIDENCE = 0.95
EVALUATION_COLUMNS = ["fy", "fx", "detector", "amplitude", "correct", "n_test", "accuracy", "ci_low", "detected"]


@dataclasses.dataclass(repr=False)
class DetectionLimits(TableDisplay):
    """One row per frequency in ``table`` (one row for the colour and JPEG probes, without
    ``fy, fx, radius``). Per detector ``d``: ``threshold_d`` with its bracket
    ``threshold_d_low, threshold_d_high`` in grey levels (sinusoid: amplitude; noise: RMS;
    colour: the cast, whole numbers, threshold = the smallest detected), and ``ratio`` = network / linear threshold when both were measured;
    for the JPEG probe instead ``quality_d`` (the highest quality detected) and
    ``quality_d_missed`` (the lowest quality tested and not detected). ``evaluations``
    holds every training the searches made; ``settings`` how the audiogram was measured."""

    table: pd.DataFrame
    evaluations: pd.DataFrame
    settings: dict[str, Any]
    folder: Path | None = None

    @property
    def detectors(self) -> list[str]:
        return list(self.settings["detectors"])

    @property
    def probe(self) -> str:
        return self.settings.get("probe", "sinusoid")

    def limit(self, detector: str = "network") -> float:
        """The largest strength any grid frequency needed (grey levels): above it, every one
        was detected. Not defined for the JPEG probe (read ``table["quality_<detector>"]``)."""
        if self.probe == "jpeg":
            raise FreqprobeError(f"a JPEG audiogram has qualities, not grey levels: read table['quality_{detector}']")
        return float(self.table[f"threshold_{detector}_high"].max())

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``limits.csv``, ``evaluations.csv``, ``limits.json`` and ``limits.png/.pdf``."""
        from ..figures.limits import save_limits_figure

        folder = Path(folder)
        paths = [write_table(self.table, folder / "limits.csv"), write_table(self.evaluations, folder / "evaluations.csv")]
        with atomic_path(folder / "limits.json") as partial:
            partial.write_text(json.dumps(self.settings, indent=1) + "\n")
        paths.append(folder / "limits.json")
        return paths + save_limits_figure(self.table, self.detectors, folder / "limits", self.probe)

    def plot(self):
        """Grid probes: threshold maps over the half plane (one per detector) and the radial
        curves; colour and JPEG: each detector's bracket."""
        from ..figures.limits import plot_limits

        return plot_limits(self.table, self.detectors, self.probe)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> DetectionLimits:
        folder = Path(folder)
        if not (folder / "limits.csv").exists() or not (folder / "limits.json").exists():
            raise FreqprobeError(f"{folder}: no limits.csv and limits.json (not an audiogram run folder)")
        settings = json.loads((folder / "limits.json").read_text())
        evaluations = pd.read_csv(folder / "evaluations.csv") if (folder / "evaluations.csv").exists() else pd.DataFrame()
        return cls(pd.read_csv(folder / "limits.csv"), evaluations, settings, folder)

    def describe(self) -> str:
        size = self.settings["size"][0]
        if self.probe == "jpeg":
            parts = [f"JPEG re-encoding of {size} px images"] + [self._quality(d) for d in self.detectors]
            return "; ".join(parts)
        if self.probe == "colour":
            parts = [f"colour cast (+red, -blue) on {size} px images"]
            parts += [f"{d} {self.table[f'threshold_{d}'].iloc[0]:.3g} grey levels "
                      f"[{self.table[f'threshold_{d}_low'].iloc[0]:.3g}, {self.table[f'threshold_{d}_high'].iloc[0]:.3g}]"
                      for d in self.detectors]  # fmt: skip
        elif self.probe == "noise":
            parts = [f"{len(self.table)} noise bands (cells of {self.settings['step']:g} cycles/px) of {size} px images"]
            parts += [f"{d} worst {self.limit(d):.3g} grey levels RMS" for d in self.detectors]
        else:
            parts = [f"{len(self.table)} frequencies of {size} px images"]
            parts += [f"{d} worst {self.limit(d):.3g} grey levels" for d in self.detectors]
        if "ratio" in self.table:
            parts.append(f"network / linear at most {self.table['ratio'].max():.3g}")
        return "; ".join(parts)

    def _quality(self, detector: str) -> str:
        detected, missed = (self.table[f"quality_{detector}{s}"].iloc[0] for s in ("", "_missed"))
        if math.isnan(detected):
            return f"{detector} detects no quality down to {100 - self.settings['amplitudes'][1]:g}"
        above = "" if math.isnan(missed) else f" (not {missed:g})"
        return f"{detector} detects quality {detected:g} and below{above}"


def detection_limits(
    real: ImageSet | str | os.PathLike,
    *,
    probe: str = "sinusoid",
    frequencies: Sequence[tuple[float, float]] | None = None,
    step: float = 0.125,
    amplitudes: tuple[float, float] | None = None,
    steps: int = 4,
    detectors: Sequence[str] | Mapping[str, Detector] = ("network", "linear"),
    model: str = "fast",
    recipe: Recipe | str = "whitened",
    seed: int = 0,
    split_seed: int = 0,
    test_size: float = 0.2,
    out: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    executor: str | Executor = "local",
    pack: bool | None = None,
    address: str | None = None,
    progress: bool = True,
) -> DetectionLimits:
    """The weakest probe each detector finds (per frequency for grid probes), on halves of ``real``.

    Args:
        real: the real set (an ``ImageSet`` or anything ``load_images`` reads).
        probe: what is planted (``kinds.py``): ``"sinusoid"`` (amplitude, grey levels),
            ``"noise"`` (a band of noise filling each grid cell; RMS, grey levels),
            ``"colour"`` (+a red, -a blue, whole grey levels) or ``"jpeg"`` (strength
            ``100 - quality``, whole numbers); the last two are one search, no grid.
        frequencies: ``(fy, fx)`` in cycles per pixel; default ``frequency_grid(step)``.
        step: the grid's spacing, and the side of each noise band's cell.
        amplitudes: the searched strengths (``(smallest, largest)``, in the probe's unit);
            default: the probe's (sinusoid and noise 0.25-32, colour 1-64, jpeg 1-90).
        steps: bisections after testing both ends: the bracket's ratio is
            ``(largest / smallest) ** (1 / 2 ** steps)`` (whole strengths: stops earlier).
        detectors: ``"network"`` (``model`` trained by ``recipe``, as ``fp.ablate`` does) and/or
            ``"linear"`` (the linear second opinion), or a mapping of names to ``Detector``s.
        seed: seeds the planted phases or noise and the network's training.
        split_seed, test_size: the halves of ``real`` and their train/test split.
        out: run folder: each finished training is stored at once, a rerun resumes.
        executor, pack, address: where a round's network trainings run: ``"local"`` (in
            process; ``pack``: trained together, default on CUDA only), ``"ray"`` (at
            ``address``) or an object with ``run(jobs)``. The results do not depend on it.

    Raises:
        FreqprobeError: an unknown probe, a frequency outside the Nyquist square, bad
            amplitudes, too few images, an unknown detector, model or executor, ``out`` not
            a folder — before any training.
    """
    kind = get_probe(probe)
    if isinstance(executor, str):
        check_executor(executor)
    real = real if isinstance(real, ImageSet) else load_images(real)
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise FreqprobeError(f"{out}: exists and is not a folder")
    _check_probe_of_folder(out, kind.name)
    grid = _grid(frequencies, step) if kind.on_grid else [None]
    smallest, largest = (float(a) for a in (kind.strengths if amplitudes is None else amplitudes))
    bisection(smallest, largest, steps)  # checks the range now
    kind.check(smallest, largest)
    named = _detectors(detectors, model, get_recipe(recipe))
    half = len(real) // 2
    if half < 10:
        raise FreqprobeError(f"the real set has {len(real)} images; an audiogram needs at least 20")
    if kind.name == "noise":  # a cell without a frequency bin fails now
        for frequency in grid:
            plant_noise_band(real.images[:1], *frequency, step, 1.0, seed)
    fingerprint = real.fingerprint()
    settings = {
        "fingerprint": fingerprint, "size": list(real.size), "n_images": len(real), "probe": kind.name,
        "amplitudes": [smallest, largest], "steps": steps, "seed": seed, "split_seed": split_seed,
        "test_size": test_size, "confidence": 1 - (1 - CONFIDENCE) / evaluations_per_search(steps),
        "detectors": list(named), **_network_settings(named.get("network"), model, get_recipe(recipe)),
        "unit": kind.unit, **({"step": step} if kind.name == "noise" else {}),
    }  # fmt: skip
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(split_seed))
    kept, planted_base = real[order[:half]], real.images[order[half : 2 * half]]
    planting = Planting(kept, planted_base, kind, step, seed, split_seed, test_size, fingerprint)
    resolved = resolve_device(device)
    runner = make_runner(executor, pack, resolved if executor == "local" else device, address)  # Ray: each worker resolves
    searches = [Search(f, name, bisection(smallest, largest, steps, kind.whole)) for f in grid for name in named]
    budget = evaluations_per_search(steps)
    with tqdm(total=len(searches) * budget, desc="trainings", disable=None if progress else True) as bar:
        run_searches(searches, named, planting, EvaluationStore(out), runner, settings["confidence"], resolved, bar, budget)
    trained_on = sorted({made["trained_on"] for search in searches for made in search.made if made.get("trained_on")})
    if len(trained_on) > 1:  # a folder resumed on another device, or packed on CUDA (bf16) after float32
        warnings.warn(f"this audiogram's networks were trained under different settings ({'; '.join(trained_on)}): "
                      "thresholds may differ slightly from a run under one", stacklevel=2)  # fmt: skip
    result = DetectionLimits(_table(searches, kind, list(named)), _evaluations(searches, kind), settings)
    if progress and "ratio" in result.table and kind.on_grid:
        for row in result.table.itertuples():
            tqdm.write(f"({row.fy:+.3f}, {row.fx:+.3f}) network {row.threshold_network:.3g}, "
                       f"linear {row.threshold_linear:.3g} {kind.unit}")  # fmt: skip
    if out is not None:
        result.save(out)
        result.folder = Path(out)
    return result


def _evaluations(searches: list[Search], kind: Probe) -> pd.DataFrame:
    """Every test the searches made, search by search (grid probes: frequency by frequency)."""
    columns = [c for c in EVALUATION_COLUMNS if kind.on_grid or c not in ("fy", "fx")]
    if kind.name == "jpeg":
        columns[columns.index("amplitude")] = "quality"
    return pd.DataFrame([made for search in searches for made in search.made], columns=columns)


def _check_probe_of_folder(out: str | os.PathLike | None, probe: str) -> None:
    """One run folder holds one probe's audiogram (its tables would be overwritten)."""
    settings = None if out is None else Path(out) / "limits.json"
    if settings is not None and settings.exists():
        held = json.loads(settings.read_text()).get("probe", "sinusoid")
        if held != probe:
            raise FreqprobeError(f"{out}: holds a {held} audiogram; give the {probe} audiogram another folder, "
                                 f"e.g. {Path(out) / probe}")  # fmt: skip


def _grid(frequencies: Sequence[tuple[float, float]] | None, step: float) -> list[tuple[float, float]]:
    grid = [(float(fy), float(fx)) for fy, fx in (frequency_grid(step) if frequencies is None else frequencies)]
    if not grid or any(not (abs(fy) <= 0.5 and abs(fx) <= 0.5) or fy == fx == 0 for fy, fx in grid):
        raise FreqprobeError(f"frequencies must be (fy, fx) in cycles per pixel, |f| <= 0.5 and not DC, got {grid}")
    return grid


def _table(searches: list[Search], kind: Probe, detectors: list[str]) -> pd.DataFrame:
    """One row per frequency (one row for a probe without one): each detector's bracket."""
    rows: dict[Any, dict[str, Any]] = {}
    for search in searches:
        f = search.frequency
        row = rows.setdefault(f, {} if f is None else {"fy": f[0], "fx": f[1], "radius": math.hypot(*f)})
        name, bracket = search.detector, kind.floored(search.bracket)
        if kind.name == "jpeg":  # detected at 100 - high, not at 100 - low; NaN where no such quality was tested
            row[f"quality_{name}"] = int(100 - bracket.high) if math.isfinite(bracket.high) else math.nan
            row[f"quality_{name}_missed"] = int(100 - bracket.low) if bracket.low > 0 else math.nan
        else:  # whole strengths: nothing lies between the ends, the threshold is the smallest detected
            threshold = bracket.high if kind.whole else bracket.threshold
            row.update({f"threshold_{name}": threshold, f"threshold_{name}_low": bracket.low,
                        f"threshold_{name}_high": bracket.high})  # fmt: skip
    table = pd.DataFrame(list(rows.values()))
    if "network" in detectors and "linear" in detectors and kind.name != "jpeg":
        table["ratio"] = table["threshold_network"] / table["threshold_linear"]
    return table


def _network_settings(network: Detector | None, model: str, recipe: Recipe) -> dict[str, str]:
    """The model, recipe label and freqprobe version of the network measured (an ablation's
    limit needs all three to match: a version can change what a recipe trains)."""
    if isinstance(network, NetworkDetector):
        model, recipe = network.model, network.recipe
    return {"model": model, "recipe": recipe.label, "version": __version__}


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
