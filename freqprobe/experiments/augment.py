"""``augment_vs_replace``: does a downstream K-class classifier gain more from generated
images added to the real ones than from generated images in place of real ones?"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .._version import __version__
from ..ablation.result import seed_summary
from ..ablation.runs import RunStore
from ..ablation.study import resolve_seeds
from ..device import resolve_device
from ..display import TableDisplay
from ..errors import FreqprobeError
from ..execution.jobs import evaluate
from ..io import check_output_folder, write_table
from ..models import build_classifier
from ..probe.labelled import LabelledImages as LabelledSet
from ..probe.labelled import LabelledSource, load_labelled
from ..training import FilteredImages, LabelledImages, Recipe, get_recipe, predict_proba, train_classifier
from ..transforms import transform
from .tables import read_table

AUGMENT_COLUMNS = ["mode", "ratio", "seed", "n_real", "n_generated", "n_test", "accuracy", "ci_low", "ci_high",
                   "p_value", "chance"]  # fmt: skip
SUMMARY_COLUMNS = ["mode", "ratio", "n_seeds", "n_real", "n_generated", "n_test", "accuracy", "accuracy_std",
                   "ci_low", "ci_high", "chance"]  # fmt: skip


def augment_vs_replace(
    real: LabelledSource,
    generated: LabelledSource,
    test: LabelledSource,
    ratios: Sequence[float] = (0.25, 0.5, 1.0),
    seeds: int | Sequence[int] = 3,
    *,
    size: int | tuple[int, int] | None = None,
    out: str | os.PathLike | None = None,
    model: str = "fast",
    recipe: Recipe | str = "whitened",
    device: str | torch.device = "auto",
    progress: bool = True,
) -> AugmentResult:
    """Train the K-class classifier on real, augmented, replaced and generated training sets;
    score each on the real ``test`` set, over seeds.

    With ``n_c`` real training images in class ``c``, per class: ``real`` trains on the real
    images; ``augment`` at ratio ``r`` adds ``round(r n_c)`` generated ones; ``replace`` at
    ``r < 1`` swaps ``round(r n_c)`` real images for as many generated (same total);
    ``generated`` trains on ``n_c`` generated images only (replace at 1). Which images are
    drawn depends on the seed, so seeds average over draws as well as initialisations.

    Args:
        real, generated, test: labelled sets (a folder with one sub-folder per class, or
            ``(images, labels, class_names)``); the same class names on all three.
        ratios: generated images per real one (augment) and fractions replaced (those <= 1).
        seeds: a count (``0..n-1``) or the seeds.
        out: run folder; finished trainings are kept in ``out/augment`` (resume).

    Returns:
        An ``AugmentResult``: ``.table`` (one row per mode, ratio and seed), ``.summary``.
    """
    if out is not None:
        check_output_folder(out, "out")  # before any set is loaded
    seed_list = resolve_seeds(seeds)
    if any(not r > 0 for r in ratios):
        raise FreqprobeError(f"ratios must be positive numbers, got {list(ratios)}")
    recipe = get_recipe(recipe)
    real, generated, test = (load_labelled(s, size=size) for s in (real, generated, test))
    generated = _relabelled(generated, real.class_names, "generated")
    test = _relabelled(test, real.class_names, "test")
    plan = [("real", 0.0)] + [("augment", float(r)) for r in ratios]
    plan += [("replace", float(r)) for r in ratios if r < 1] + [("generated", 1.0)]
    for mode, ratio in plan:  # every draw possible before any training
        _draw(real, generated, mode, ratio, np.random.default_rng(0))
    device = resolve_device(device)
    store = RunStore(out, "augment")
    identity = {"data": [s.images.fingerprint() for s in (real, generated, test)],
                "labels": [_digest(s.labels) for s in (real, generated, test)], "model": model,
                "recipe": dataclasses.asdict(recipe), "version": __version__}  # fmt: skip
    rows = []
    for seed in tqdm(seed_list, desc="seeds", disable=None if progress else True):
        for mode, ratio in plan:
            key = _key({**identity, "mode": mode, "ratio": ratio, "seed": seed})
            record = store.record(key, weights=False)
            if record is None:
                record = _train_and_score(real, generated, test, mode, ratio, seed, model, recipe, device)
                store.put(key, record)
            rows.append({"mode": mode, "ratio": ratio, "seed": seed, **record["scores"]})
    result = AugmentResult(pd.DataFrame(rows, columns=AUGMENT_COLUMNS))
    if out is not None:
        result.save(out)
    return result


def _relabelled(labelled: LabelledSet, class_names: tuple[str, ...], what: str) -> LabelledSet:
    """``labelled`` with labels indexing ``class_names`` (the real set's classes)."""
    if set(labelled.class_names) != set(class_names):
        raise FreqprobeError(
            f"the {what} set has classes {', '.join(labelled.class_names)}; the real set {', '.join(class_names)}"
        )
    mapping = np.array([class_names.index(name) for name in labelled.class_names])
    return LabelledSet(labelled.images, mapping[labelled.labels], class_names)


def _draw(real: LabelledSet, generated: LabelledSet, mode: str, ratio: float, rng: np.random.Generator):
    """Indices of the real and generated training images of one mode and ratio, per class."""
    real_index, generated_index = [], []
    for c in np.unique(real.labels):
        real_c, generated_c = np.flatnonzero(real.labels == c), np.flatnonzero(generated.labels == c)
        n_c = len(real_c)
        n_generated = {"real": 0, "augment": round(ratio * n_c), "replace": round(ratio * n_c), "generated": n_c}[mode]
        if n_generated > len(generated_c):
            raise FreqprobeError(
                f"{mode} at ratio {ratio:g} needs {n_generated} generated images of class {real.class_names[c]}, "
                f"there are {len(generated_c)}; give more generated images or smaller ratios"
            )
        n_real = n_c - n_generated if mode in ("replace", "generated") else n_c
        real_index.append(rng.choice(real_c, n_real, replace=False))
        generated_index.append(rng.choice(generated_c, n_generated, replace=False))
    return np.sort(np.concatenate(real_index)), np.sort(np.concatenate(generated_index))


def _train_and_score(real, generated, test, mode, ratio, seed, model, recipe, device) -> dict:
    rng = np.random.default_rng([seed, zlib.crc32(f"{mode}:{ratio}".encode())])  # its own draw per mode and ratio
    real_index, generated_index = _draw(real, generated, mode, ratio, rng)
    sources = [real.images.images, generated.images.images]
    train = LabelledImages(
        sources,
        torch.cat([torch.zeros(len(real_index), dtype=torch.long), torch.ones(len(generated_index), dtype=torch.long)]),
        torch.from_numpy(np.concatenate([real_index, generated_index])),
        torch.from_numpy(np.concatenate([real.labels[real_index], generated.labels[generated_index]])),
    )
    test_data = LabelledImages([test.images.images], torch.zeros(len(test), dtype=torch.long),
                               torch.arange(len(test)), torch.from_numpy(test.labels))  # fmt: skip
    original, k = transform("original"), len(real.class_names)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        classifier = build_classifier(model, k, (3, *train.image_size), recipe.whiten, recipe.readout)
        train_classifier(classifier, FilteredImages(train, original, device), recipe, seed, device)
    scored = evaluate(predict_proba(classifier, test_data, original, device), test_data.label, len(train))
    scores = {"n_real": len(real_index), "n_generated": len(generated_index),
              **{name: scored[name] for name in AUGMENT_COLUMNS if name in scored}}  # fmt: skip
    return {"freqprobe": __version__, "scores": scores}


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def _key(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


@dataclasses.dataclass(repr=False)
class AugmentResult(TableDisplay):
    """One row per (mode, ratio, seed) in ``table``; ``summary`` averages the seeds."""

    table: pd.DataFrame
    folder: Path | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """Mean accuracy per mode and ratio, with the Wilson interval of one test set at the
        mean (as ``fp.ablate``'s summary; the seeds' spread is ``accuracy_std``)."""
        rows = [{"mode": mode, "ratio": ratio, **seed_summary(group), "n_real": int(group["n_real"].iloc[0]),
                 "n_generated": int(group["n_generated"].iloc[0]), "chance": float(group["chance"].iloc[0])}
                for (mode, ratio), group in self.table.groupby(["mode", "ratio"], sort=False)]  # fmt: skip
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    def curves(self) -> dict[str, pd.DataFrame]:
        """The two curves of the figure: ``augment`` (real, then augment ratios) and
        ``replace`` (real, replace fractions, then generated only), from the summary."""
        summary = self.summary
        real = summary[summary["mode"] == "real"]
        return {
            "augment": pd.concat([real, summary[summary["mode"] == "augment"]]),
            "replace": pd.concat([real, summary[summary["mode"].isin(["replace", "generated"])]]),
        }

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``augment.csv``, ``augment_summary.csv`` and ``augment.png/.pdf``."""
        from ..figures.experiments import save_augment_figure

        folder = Path(folder)
        self.folder = folder
        paths = [write_table(self.table, folder / "augment.csv"), write_table(self.summary, folder / "augment_summary.csv")]
        return paths + save_augment_figure(self.curves(), self.table, folder / "augment")

    def plot(self, ax=None):
        """Accuracy on the real test set against the ratio: augment and replace curves."""
        from ..figures.experiments import plot_augment

        return plot_augment(self.curves(), self.table, ax=ax)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> AugmentResult:
        folder = Path(folder)
        return cls(read_table(folder / "augment.csv", "an augment run folder"), folder)

    shown_table = "summary"

    def describe(self) -> str:
        where = f"; {self.folder}" if self.folder is not None else ""
        return f"{self.table['seed'].nunique()} seeds, ratios {', '.join(f'{r:g}' for r in self.table['ratio'].unique())}{where}"
