"""The model-vs-human benchmark's aggregates (Geirhos et al. 2021; as Clark et al. 2024 report them).

Definitions follow model-vs-human's analysis code (``modelvshuman/plotting/plot.py``,
``get_raw_benchmark_df``, ``format_benchmark_df``, ``get_mean_over_datasets``;
``analyses.py``):

- the datasets: the 17 of ``DATASETS`` (a trial's ``distortion``); of the 12 parametric
  ones, the conditions of ``EXCLUDED_CONDITIONS`` are left out of every aggregate (not
  out of distribution, or humans below 20 % accuracy); the 5 others are pooled over
  their trials (one condition, ``all``);
- OOD accuracy: an observer's accuracy over a dataset's kept trials (humans: all human
  observers' trials pooled), mean over datasets;
- accuracy difference, observed consistency, error consistency: per condition and human,
  the squared accuracy difference, the fraction of trials where both were right or both
  wrong, Cohen's kappa (1 when the observed consistency is 1, as the reference has it);
  mean over conditions, then over human observers, then over datasets. For ``humans``:
  over every pair of human observers instead;
- response entropy (Geirhos et al. 2018; model-vs-human plots it per condition): per
  observer and condition, the entropy in bits of the responses' distribution over the
  categories shown; humans: the mean over observers. Aggregated here as the others:
  mean over kept conditions, then over datasets;
- confusion matrices: per observer (humans pooled) and condition, the percentage of each
  presented category answered with each response (``na``, no answer, included).

Human observers are those whose ``subj`` matches ``humans`` (model-vs-human's
``subject-*``); every other observer is a model.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import itertools
import json
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from .._version import __version__
from ..display import TableDisplay
from ..errors import DataError
from ..io import atomic_path, write_table
from .conditions import condition_meaning, harmonise_conditions
from .consistency import check_same_images, check_unique_images, factorize_pairs, pair_counts
from .trials import TrialSource, read_trials, with_keys

PARAMETRIC = ("colour", "contrast", "high-pass", "low-pass", "phase-scrambling", "power-equalisation",
              "false-colour", "rotation", "eidolonI", "eidolonII", "eidolonIII", "uniform-noise")  # fmt: skip
NONPARAMETRIC = ("edge", "silhouette", "cue-conflict", "sketch", "stylized")
DATASETS = (*NONPARAMETRIC[:3], *PARAMETRIC, *NONPARAMETRIC[3:])  #: model-vs-human's DEFAULT_DATASETS
#: model-vs-human's EXCLUDE_CONDITIONS: not out of distribution, or mean human accuracy < 0.2.
EXCLUDED_CONDITIONS: dict[str, tuple[str, ...]] = {
    "colour": ("cr",),
    "contrast": ("c100", "c03", "c01"),
    "high-pass": ("inf", "0.55", "0.45", "0.4"),
    "low-pass": ("0", "15", "40"),
    "phase-scrambling": ("0", "150", "180"),
    "power-equalisation": ("0",),
    "false-colour": ("True",),
    "rotation": ("0",),
    "eidolonI": ("1-10-10", "64-10-10", "128-10-10"),
    "eidolonII": ("1-3-10", "32-3-10", "64-3-10", "128-3-10"),
    "eidolonIII": ("1-0-10", "16-0-10", "32-0-10", "64-0-10", "128-0-10"),
    "uniform-noise": ("0.0", "0.6", "0.9"),
}
METRICS = ("ood_accuracy", "accuracy_difference", "observed_consistency", "error_consistency", "entropy")
HUMANS = "humans"

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def read_benchmark_trials(sources: TrialSource | Sequence[TrialSource]) -> pd.DataFrame:
    """One trial table from CSV files, data frames and folders of CSV files (searched
    recursively: model-vs-human's ``raw-data/<dataset>/*.csv``). A file without a
    ``distortion`` column is of the dataset its folder names; a data frame needs one."""
    if isinstance(sources, (pd.DataFrame, str, os.PathLike)):
        sources = [sources]
    tables = []
    for source in sources:
        if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
            files = sorted(Path(source).rglob("*.csv"))
            if not files:
                raise DataError(f"{source}: no CSV trial tables in this folder")
        else:
            files = [source]
        for file in files:
            table = read_trials(file) if isinstance(file, pd.DataFrame) or "distortion" in _header(file) else \
                read_trials(file, distortion=Path(file).parent.name)  # fmt: skip
            tables.append(table)
    return pd.concat(harmonise_conditions(tables), ignore_index=True)


def _header(path: TrialSource) -> list[str]:
    if not Path(path).is_file():
        return []
    with open(path, encoding="utf-8", errors="replace") as handle:
        return [name.strip().lower() for name in handle.readline().split(",")]


def is_excluded(dataset: str, condition: str) -> bool:
    """Whether model-vs-human leaves this condition out of its aggregates."""
    meanings = {condition_meaning(dataset, label) for label in EXCLUDED_CONDITIONS.get(dataset, ())}
    return condition_meaning(dataset, condition) in meanings


def _excluded(datasets: pd.Series, conditions: pd.Series) -> np.ndarray:
    """``is_excluded`` per row, worked out once per distinct (dataset, condition)."""
    codes, pairs = factorize_pairs(datasets, conditions)
    return np.array([is_excluded(*pair) for pair in pairs], dtype=bool)[codes]


def benchmark_tables(trials: pd.DataFrame, humans: str = "subject-*") -> dict[str, pd.DataFrame]:
    """``summary``, ``datasets``, ``conditions`` and ``confusion`` tables (see the module docstring)."""
    trials = trials.copy()
    pooled = trials["distortion"].isin(NONPARAMETRIC)
    trials.loc[pooled, "condition"] = "all"
    (keyed,) = harmonise_conditions([with_keys(trials)])
    check_unique_images(keyed)
    is_human = {subj: fnmatch.fnmatch(subj, humans) for subj in keyed["subj"].unique()}
    if not any(is_human.values()):
        raise DataError(f"no human observer (subj matching {humans!r}) among the trials; name them so, or give humans=")
    if all(is_human.values()):
        raise DataError(f"every observer matches {humans!r}; the benchmark compares models with humans")
    if HUMANS in is_human:
        raise DataError(f"a model is named {HUMANS!r}, the name of the humans' row; rename it")
    keyed["human"] = keyed["subj"].map(is_human)
    keyed["excluded"] = _excluded(keyed["distortion"], keyed["condition"])
    per_condition = _condition_table(keyed)
    pairs = _pair_table(keyed)
    datasets = _dataset_table(keyed, per_condition, pairs)
    order = [*dict.fromkeys(keyed.loc[~keyed["human"], "subj"]), HUMANS]
    datasets = datasets.sort_values("observer", key=lambda names: names.map(order.index), kind="stable")
    datasets = datasets.reset_index(drop=True)
    summary = datasets.groupby("observer", sort=False)[list(METRICS)].mean().reindex(order)
    summary["n_datasets"] = datasets.groupby("observer", sort=False).size().reindex(order)
    summary = summary.reset_index().rename(columns={"index": "observer"})
    return {"summary": summary, "datasets": datasets, "conditions": per_condition, "confusion": _confusion(keyed)}


def _observer_names(keyed: pd.DataFrame) -> pd.Series:
    return keyed["subj"].where(~keyed["human"], HUMANS)


def _entropies(keyed: pd.DataFrame) -> pd.Series:
    """model-vs-human's ``Entropy`` per observer and condition: the responses' distribution
    over the categories shown (``na`` left out; shares below 1e-5 ignored), in bits."""
    group = ["subj", "distortion", "condition"]
    n = keyed.groupby(group, sort=False).size().rename("n")
    shown = keyed.loc[keyed["category"] != "na", [*group, "category"]].drop_duplicates()
    answers = keyed.groupby([*group, "object_response"], sort=False).size().rename("count").reset_index()
    counts = shown.merge(answers.rename(columns={"object_response": "category"}), how="left").fillna({"count": 0})
    p = counts["count"] / counts[group].merge(n.reset_index(), how="left")["n"].to_numpy()
    terms = counts[group].assign(term=np.where(p.abs() > 1e-5, -p * np.log2(p.where(p > 0, 1.0)), 0.0))
    return terms.groupby(group, sort=False)["term"].sum().reindex(n.index, fill_value=0.0).rename("entropy")


def _condition_table(keyed: pd.DataFrame) -> pd.DataFrame:
    """Per observer (humans pooled) and condition: accuracy and entropy."""
    by = ["distortion", "condition"]
    accuracy = keyed.assign(observer=_observer_names(keyed)).groupby(["observer", *by], sort=False).agg(
        accuracy=("correct", "mean"), n_trials=("correct", "size"), excluded=("excluded", "first"))  # fmt: skip
    observer_of = dict(zip(keyed["subj"], _observer_names(keyed)))
    entropy = _entropies(keyed).reset_index()
    entropy = entropy.assign(observer=entropy["subj"].map(observer_of))
    entropy = entropy.groupby(["observer", *by], sort=False)["entropy"].mean()
    table = accuracy.join(entropy).reset_index().rename(columns={"distortion": "dataset"})
    return table[["observer", "dataset", "condition", "excluded", "accuracy", "entropy", "n_trials"]]


def _pair_table(keyed: pd.DataFrame) -> pd.DataFrame:
    """Per (observer, human, dataset, condition): the three human-likeness metrics."""
    rows = []
    for dataset, part in keyed.groupby("distortion", sort=False):
        observers = list(dict.fromkeys(part["subj"]))
        counts = pair_counts(part, observers)
        humans = [k for k, name in enumerate(observers) if part.loc[part["subj"] == name, "human"].iloc[0]]
        models = [k for k in range(len(observers)) if k not in humans]
        for first, second in [*itertools.product(models, humans), *itertools.combinations(humans, 2)]:
            names = observers[first], observers[second]
            shared = (counts["n_own"][:, first] > 0) & (counts["n_own"][:, second] > 0)
            check_same_images(part, counts, names, first, second, shared)
            n = counts["n"][shared, first, second]
            p1, p2 = counts["right"][shared, first, second] / n, counts["right"][shared, second, first] / n
            observed = counts["agree"][shared, first, second] / n
            expected = p1 * p2 + (1 - p1) * (1 - p2)
            with np.errstate(invalid="ignore", divide="ignore"):
                kappa = np.where(observed == 1.0, 1.0, (observed - expected) / (1 - expected))
            conditions = [c for (_, c), s in zip(counts["conditions"], shared) if s]
            rows.append(pd.DataFrame({
                "observer": names[0] if first in models else HUMANS, "human": names[1], "first": names[0],
                "dataset": dataset, "condition": conditions, "accuracy_difference": (p1 - p2) ** 2,
                "observed_consistency": observed, "error_consistency": kappa,
            }))  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=["observer", "human", "first", "dataset", "condition", *METRICS[1:4]])
    table = pd.concat(rows, ignore_index=True)
    table["excluded"] = _excluded(table["dataset"], table["condition"])
    return table


def _dataset_table(keyed: pd.DataFrame, per_condition: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    kept = keyed[~keyed["excluded"]]
    if kept.empty:
        raise DataError("every trial is in a condition model-vs-human excludes (e.g. contrast c100); "
                        "nothing to aggregate")
    ood = kept.assign(observer=_observer_names(kept)).groupby(["observer", "distortion"], sort=False)["correct"]
    table = ood.agg(ood_accuracy="mean", n_trials="size")
    conditions = per_condition[~per_condition["excluded"]]
    table = table.join(conditions.groupby(["observer", "dataset"], sort=False)["entropy"].mean()
                       .rename_axis(["observer", "distortion"]))  # fmt: skip
    table["n_conditions"] = conditions.groupby(["observer", "dataset"], sort=False).size().rename_axis(
        ["observer", "distortion"])  # fmt: skip
    used = pairs[~pairs["excluded"]]
    metrics = list(METRICS[1:4])
    over_conditions = used.groupby(["observer", "first", "human", "dataset"], sort=False)[metrics].mean()
    over_humans = over_conditions.groupby(["observer", "dataset"], sort=False).mean()
    over_humans = over_humans.rename_axis(["observer", "distortion"])
    table = table.join(over_humans).reset_index().rename(columns={"distortion": "dataset"})
    missing = [d for d in DATASETS if d not in set(table["dataset"])]
    if missing:
        warnings.warn(f"the benchmark's aggregates over {len(DATASETS) - len(missing)} of its {len(DATASETS)} datasets "
                      f"(missing: {', '.join(missing)})", stacklevel=3)  # fmt: skip
    return table[["observer", "dataset", *METRICS, "n_conditions", "n_trials"]]


def _confusion(keyed: pd.DataFrame) -> pd.DataFrame:
    """Long confusion tables: per observer (humans pooled), dataset and condition."""
    frame = keyed.assign(observer=_observer_names(keyed), response=keyed["object_response"].replace("", "na"))
    counts = frame.groupby(["observer", "distortion", "condition", "category", "response"], sort=False).size()
    counts = counts.rename("count").reset_index().rename(columns={"distortion": "dataset"})
    totals = counts.groupby(["observer", "dataset", "condition", "category"], sort=False)["count"].transform("sum")
    return counts.assign(percent=100.0 * counts["count"] / totals)


@dataclasses.dataclass(repr=False)
class BenchmarkReport(TableDisplay):
    """The benchmark's aggregates of one or more models and the humans.

    ``summary`` (one row per observer, ``humans`` last), ``datasets`` (per observer and
    dataset), ``conditions`` (accuracy and entropy per condition, ``excluded`` marking the
    conditions left out of the aggregates), ``confusion`` (long confusion tables).
    A run folder (``save``): those four as CSV, ``settings.json``, the figure
    ``benchmark`` (every model side by side) and one ``benchmark-<observer>`` table and
    figure per model.
    """

    summary: pd.DataFrame
    datasets: pd.DataFrame
    conditions: pd.DataFrame
    confusion: pd.DataFrame
    settings: dict[str, Any]

    TABLES: ClassVar[tuple[str, ...]] = ("summary", "datasets", "conditions", "confusion")

    @property
    def table(self) -> pd.DataFrame:
        return self.summary

    def describe(self) -> str:
        models = [o for o in self.summary["observer"] if o != HUMANS]
        return f"models {', '.join(models)} against humans over {self.datasets['dataset'].nunique()} datasets"

    def observer_table(self, observer: str) -> pd.DataFrame:
        """One model's aggregates per dataset, beside the humans', and its mean row (``dataset == "mean"``)."""
        rows = self.datasets[self.datasets["observer"].isin([observer, HUMANS])]
        mean = self.summary[self.summary["observer"].isin([observer, HUMANS])].assign(dataset="mean")
        return pd.concat([rows, mean], ignore_index=True)[["observer", "dataset", *METRICS]]

    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        folder = Path(folder)
        paths = [write_table(getattr(self, name), folder / f"{name}.csv") for name in self.TABLES]
        for observer in self.models:
            paths.append(write_table(self.observer_table(observer), folder / f"benchmark-{file_stem(observer)}.csv"))
        with atomic_path(folder / "settings.json") as partial:
            partial.write_text(json.dumps(self.settings, indent=2, default=str) + "\n")
        return [*paths, folder / "settings.json", *self.save_figures(folder)]

    def save_figures(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Draw the summary figure and one per model into ``folder`` (PNG and PDF)."""
        from ..figures import save_figure
        from ..figures.benchmark import plot_benchmark, plot_observer

        paths = save_figure(plot_benchmark(self.summary), Path(folder) / "benchmark")
        for observer in self.models:
            figure = plot_observer(self.observer_table(observer), self.confusion, observer, self.conditions)
            paths += save_figure(figure, Path(folder) / f"benchmark-{file_stem(observer)}")
        return paths

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> BenchmarkReport:
        folder = Path(folder)
        missing = [name for name in cls.TABLES if not (folder / f"{name}.csv").exists()]
        if missing:
            raise DataError(f"{folder}: not a benchmark run folder (missing {missing[0]}.csv)")
        text = {"observer": str, "dataset": str, "condition": str, "category": str, "response": str}
        tables = {name: pd.read_csv(folder / f"{name}.csv", dtype=text, keep_default_na=False, na_values=[""])  # a class named None stays one
                  for name in cls.TABLES}
        settings = json.loads((folder / "settings.json").read_text()) if (folder / "settings.json").exists() else {}
        return cls(**tables, settings=settings)

    @property
    def models(self) -> list[str]:
        return [o for o in self.summary["observer"] if o != HUMANS]

    def plot(self) -> Figure:
        """Every model's aggregates side by side, humans as a reference."""
        from ..figures.benchmark import plot_benchmark

        return plot_benchmark(self.summary)


def file_stem(name: str) -> str:
    """A file-name-safe version of an observer's name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "observer"


def redraw_benchmark(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw a benchmark run folder's figures from its saved tables."""
    return BenchmarkReport.load(folder).save_figures(folder)


def benchmark(trials: TrialSource | Sequence[TrialSource], *, humans: str = "subject-*") -> BenchmarkReport:
    """The model-vs-human benchmark's aggregates of every model among ``trials`` against
    the human observers among them (see the module docstring).

    Args:
        trials: trial tables: CSV files, data frames, folders of CSV files (a probe's
            ``trials.csv``, model-vs-human's ``raw-data`` folder or its dataset folders).
        humans: a shell pattern (``fnmatch``) naming the human observers' ``subj``.
    """
    table = read_benchmark_trials(trials)
    tables = benchmark_tables(table, humans)
    sources = [trials] if isinstance(trials, (pd.DataFrame, str, os.PathLike)) else list(trials)
    settings = {"version": __version__, "humans": humans, "excluded_conditions": EXCLUDED_CONDITIONS,
                "datasets": sorted(set(tables["datasets"]["dataset"])),
                "missing_datasets": [d for d in DATASETS if d not in set(tables["datasets"]["dataset"])],
                "trials": [s if not isinstance(s, pd.DataFrame) else "DataFrame" for s in sources]}  # fmt: skip
    return BenchmarkReport(**tables, settings=settings)
