"""``AblationResult``: the tables of a study, their summary, saving and figures."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import pandas as pd

from ..device import resolve_device
from ..display import TableDisplay
from ..errors import FreqprobeError
from ..io import write_table
from ..runfolder import claim_folder
from ..models import Classifier
from ..stats import binomial_p_value, wilson_interval
from .runs import RunStore
from .tasks import NULL_CONTROL


#: The columns that name one line of the summary.
GROUP = ["task", "variant", "mode", "recipe"]


def read_table(path: Path) -> pd.DataFrame:
    """Read a saved table with plain ``pandas.read_csv``. A folder written before the null
    control was renamed has ``null`` there, which pandas reads as missing: such rows (the only
    ones without a task) are the null control, and get its name back."""
    table = pd.read_csv(path)
    if "task" in table.columns and table["task"].isna().any():
        old = table["task"].isna()
        table.loc[old, "task"] = NULL_CONTROL
        if "variant" in table.columns:
            table.loc[old & table["variant"].isna(), "variant"] = NULL_CONTROL
    return table


#: The linear probe's scores, as ``linear_<name>`` columns.
LINEAR_COLUMNS = ("accuracy", "ci_low", "ci_high", "auc")
RESULT_COLUMNS = [
    "task", "variant", "seed", "mode", "recipe", "model", "train_variant", "n_train", "n_test",
    "accuracy", "ci_low", "ci_high", "p_value", "auc", "chance",
    *(f"linear_{name}" for name in LINEAR_COLUMNS), "run",
]  # fmt: skip


def seed_summary(scores: pd.DataFrame) -> dict[str, float]:
    """The seeds of one line (``accuracy``, ``n_test``, ``p_value`` per seed) summarised:
    ``n_seeds``, ``n_test``, the mean ``accuracy`` and its spread (``accuracy_std``,
    ``_min``, ``_max``), the Wilson interval of one test set at the mean (``ci_low``,
    ``ci_high``: seeds scored on one test set are not independent trials) and ``p_value_max``."""
    n_test = int(scores["n_test"].iloc[0])
    mean = float(scores["accuracy"].mean())
    low, high = wilson_interval(mean * n_test, n_test)  # at the mean, not a rounded count
    return {
        "n_seeds": len(scores),
        "n_test": n_test,
        "accuracy": mean,
        "accuracy_std": float(scores["accuracy"].std(ddof=1)) if len(scores) > 1 else 0.0,
        "accuracy_min": float(scores["accuracy"].min()),
        "accuracy_max": float(scores["accuracy"].max()),
        "ci_low": low,
        "ci_high": high,
        "p_value_max": float(scores["p_value"].max()),
    }


def linear_summary(scores: pd.DataFrame) -> dict[str, float]:
    """The linear probe's columns of one line over its seeds: the mean accuracy and AUC, and
    the Wilson interval of one test set at the mean. One fit serves every seed of a variant
    (all equal), but the null control draws new halves, so a new fit, per seed."""
    n_test = int(scores["n_test"].iloc[0])
    accuracy = float(scores["linear_accuracy"].mean())
    low, high = wilson_interval(accuracy * n_test, n_test) if math.isfinite(accuracy) else (math.nan, math.nan)
    return {"linear_accuracy": accuracy, "linear_ci_low": low, "linear_ci_high": high,
            "linear_auc": float(scores["linear_auc"].mean())}  # fmt: skip


@dataclasses.dataclass(repr=False)
class AblationResult(TableDisplay):
    """One row per (task, variant, seed, mode, recipe) in ``table``; K-way confusions in ``confusion``.

    ``summary`` aggregates the seeds: mean, std, min and max accuracy, the Wilson interval
    of one test set at the mean accuracy (the test-sampling uncertainty; seeds scored on
    one test set are not independent trials, so their spread is reported separately),
    the largest p-value over seeds, the mean AUC, and the linear probe's accuracy and
    interval (``linear_summary``).
    """

    table: pd.DataFrame
    confusion: pd.DataFrame
    folder: Path | None = None
    #: The trained models (in memory for a study run without a folder, else ``folder/runs``).
    store: RunStore | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> pd.DataFrame:
        rows = []
        for (task, variant, mode, recipe), group in self.table.groupby(GROUP, sort=False):
            rows.append(
                {
                    "task": task,
                    "variant": variant,
                    "mode": mode,
                    "recipe": recipe,
                    **seed_summary(group),
                    "auc": float(group["auc"].mean()),
                    "chance": float(group["chance"].iloc[0]),
                    **linear_summary(group),
                }
            )
        return pd.DataFrame(rows)

    @property
    def null_ok(self) -> bool:
        """Whether no null-control run lies above chance (else: leakage or a bug).

        Each run (one per seed and recipe, each on its own random halves of the real set)
        is tested one-sided against chance (exact binomial), at 5% for the whole family
        (Bonferroni over the runs), so an honest study with many seeds does not cry wolf.
        A null control below chance is no evidence of leakage and does not count.
        """
        null = self.table[self.table["task"] == NULL_CONTROL]
        level = 0.05 / max(len(null), 1)
        return all(
            binomial_p_value(round(row.accuracy * row.n_test), int(row.n_test), row.chance) >= level
            for row in null.itertuples()
        )

    @property
    def missed_by_network(self) -> pd.DataFrame:
        """Summary rows where the linear probe beats chance and the network beyond both
        intervals: the network misses a difference that is there (the null control never counts)."""
        summary = self.summary
        found = summary["linear_ci_low"] > summary["chance"]  # the linear probe itself beats chance
        missed = found & (summary["linear_ci_low"] > summary["ci_high"]) & (summary["task"] != NULL_CONTROL)
        return summary[missed]

    @property
    def per_class(self) -> pd.DataFrame:
        """Per-class accuracy (recall) of K-way tasks, averaged over seeds, from the confusions."""
        if self.confusion.empty:
            return pd.DataFrame()
        counts = self.confusion.groupby([*GROUP, "true"], sort=False)
        correct = self.confusion[self.confusion["true"] == self.confusion["predicted"]]
        table = correct.groupby([*GROUP, "true"], sort=False)["count"].sum() / counts["count"].sum()
        return table.rename("accuracy").reset_index().rename(columns={"true": "class"})

    @property
    def pairwise(self) -> pd.DataFrame:
        """One row per pair of sets and variant: how well a binary classifier tells them apart."""
        pairs = self.summary[self.summary["task"].str.startswith("pair:")].copy()
        if pairs.empty:
            return pairs
        names = pairs["task"].str.removeprefix("pair:").str.split("|", regex=False)
        pairs.insert(0, "set_a", names.str[0])
        pairs.insert(1, "set_b", names.str[1])
        return pairs.drop(columns=["task"])

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``results.csv``, ``summary.csv``, ``confusion.csv`` (K-way) and the figures."""
        from ..figures.ablation import save_ablation_figures

        folder = Path(folder)
        claim_folder(folder, "ablate")
        figures = [f"{stem}.{kind}" for stem in ("cutoff", "pairwise") for kind in ("png", "pdf")]
        for stale in ("confusion.csv", "per_class.csv", "pairwise.csv", *figures):
            (folder / stale).unlink(missing_ok=True)  # from an earlier, different study here
        paths = [write_table(self.table, folder / "results.csv"), write_table(self.summary, folder / "summary.csv")]
        if not self.confusion.empty:
            paths.append(write_table(self.confusion, folder / "confusion.csv"))
            paths.append(write_table(self.per_class, folder / "per_class.csv"))
        if not self.pairwise.empty:
            paths.append(write_table(self.pairwise, folder / "pairwise.csv"))
        paths += save_ablation_figures(self.table, self.summary, folder)
        return paths

    def plot(self, ax=None):
        """Accuracy per variant with intervals, seeds as dots and a chance line."""
        from ..figures.ablation import plot_accuracy_bars

        return plot_accuracy_bars(self.summary, self.table, ax=ax)

    def model(
        self,
        variant: str = "original",
        seed: int | None = None,
        task: str | None = None,
        recipe: str | None = None,
        device="cpu",
    ) -> Classifier:
        """The classifier trained on ``variant`` (eval mode), for attribution or probing.

        ``seed`` defaults to the first seed of the study, ``task`` to its main task
        (``binary`` or ``kway``; the null control's model only with ``task="real-vs-real"``), ``recipe``
        to its first. The model expects images already through ``variant`` (as it was
        trained), in ``[0, 1]``; its outputs are in the order of the task's classes. Weights are loaded with
        ``torch.load(weights_only=True)``.
        """
        recipe = recipe or str(self.table["recipe"].iloc[0])
        if recipe not in set(self.table["recipe"]):
            raise FreqprobeError(f"no recipe {recipe!r} in this study; recipes: {', '.join(sorted(set(self.table['recipe'])))}")
        trained = self.table[(self.table["train_variant"] == variant) & (self.table["recipe"] == recipe)]
        if task is None:  # the null control's real-vs-real model is asked for by name only
            trained = trained[trained["task"] != NULL_CONTROL]
        if trained.empty:
            models = self.table if task == NULL_CONTROL else self.table[self.table["task"] != NULL_CONTROL]
            listed = ", ".join(sorted(set(models["train_variant"]))) or "none but the null control's"
            raise FreqprobeError(f"no model trained on {variant!r} in this study; trained on: {listed}")
        task = task or str(trained["task"].iloc[0])
        seed = int(trained["seed"].iloc[0]) if seed is None else int(seed)
        rows = trained[(trained["task"] == task) & (trained["seed"] == seed)]
        if rows.empty:
            raise FreqprobeError(
                f"no model for task {task!r}, seed {seed} on {variant!r}; tasks: {sorted(set(trained['task']))}, "
                f"seeds: {sorted(set(trained['seed']))}"
            )
        if self.store is None:
            raise FreqprobeError("this result has no trained models (load it from its run folder)")
        try:
            return self.store.model(str(rows["run"].iloc[0]), resolve_device(device))
        except KeyError:
            raise FreqprobeError(f"{self.folder}: the weights of run {rows['run'].iloc[0]} are missing") from None

    @classmethod
    def load(cls, folder: str | os.PathLike) -> AblationResult:
        """Read a saved study (figures can be redrawn from it without retraining)."""
        folder = Path(folder)
        if not (folder / "results.csv").exists():
            raise FreqprobeError(f"{folder}: no results.csv (not an ablation run folder)")
        table = read_table(folder / "results.csv")
        if not set(RESULT_COLUMNS) <= set(table.columns):
            missing = ", ".join(c for c in RESULT_COLUMNS if c not in table.columns)
            raise FreqprobeError(f"{folder}: results.csv of an older freqprobe (no {missing}); run the study again")
        confusion_path = folder / "confusion.csv"
        confusion = read_table(confusion_path) if confusion_path.exists() else pd.DataFrame()
        return cls(table, confusion, folder, RunStore(folder))

    shown_table = "summary"

    def describe(self) -> str:
        table = self.table
        where = f"; {self.folder}" if self.folder is not None else ""
        return (
            f"{len(table)} scores of {table['run'].nunique()} runs: tasks {', '.join(table['task'].unique())}; "
            f"variants {', '.join(table['variant'].unique())}; seeds {', '.join(map(str, table['seed'].unique()))}"
            f"{where}"
        )
