"""``ablate``: retrain (or probe) a classifier on every variant × seed, with a null control."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..data import ImageSet, load_images
from ..data.naming import default_set_names
from ..device import resolve_device
from ..errors import FreqprobeError
from ..execution import Executor, Job, get_executor
from ..execution.ray_session import check_executor
from ..io import check_output_folder, check_table_names, folder_lock
from ..models import MODELS, build_classifier
from ..runfolder import claim_folder
from ..training import Recipe, get_recipe
from ..transforms import transform
from ..warnlog import records_warnings
from .coverage import warn_about_left_out_variants
from .result import LINEAR_COLUMNS, RESULT_COLUMNS, AblationResult
from .runs import RunSpec, RunStore
from .tasks import NULL_CONTROL, Task, build_tasks, leaked_copies, samples_digest

if TYPE_CHECKING:
    from ..limits import DetectionLimits

MODES = ("retrain", "probe")


@records_warnings("out")
def ablate(
    real: ImageSet | str | os.PathLike,
    fakes: ImageSet | str | os.PathLike | Sequence[ImageSet | str | os.PathLike],
    variants: str | Sequence[str] = ("original",),
    seeds: int | Sequence[int] = 3,
    mode: str | Sequence[str] = "retrain",
    *,
    model: str = "fast",
    recipe: Recipe | str | Sequence[Recipe | str] | Mapping[str, Recipe] = "whitened",
    out: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    names: Sequence[str] | None = None,
    test_size: float = 0.2,
    split_seed: int = 0,
    paired: bool | str = "auto",
    pairwise: bool = True,
    null: bool = True,
    progress: bool = True,
    executor: str | Executor = "local",
    address: str | None = None,
    limits: DetectionLimits | str | os.PathLike | None = None,
) -> AblationResult:
    """Train classifiers to tell ``real`` from ``fakes`` on each variant, over seeds.

    Args:
        real: the real set (an ``ImageSet`` or anything ``load_images`` reads).
        fakes: one generated set, or several (a K-way study, plus pairwise tasks).
        variants: transform specs (``"lowpass:0.15"``, ``"edges:canny"``, …).
        seeds: a count (seeds ``0..n-1``) or the seeds themselves.
        mode: ``"retrain"`` (train and test on each variant), ``"probe"`` (train once
            on the originals, test on each variant), or ``"both"`` (the same as
            ``("retrain", "probe")``).
        model: ``"fast"``, ``"resnet18"`` or ``"module:factory"``.
        recipe: training recipe: ``"whitened"`` (default: a fixed patch-whitening stem and
            a spectral read-out), ``"spatial"`` (the same network without the read-out),
            ``"plain"`` (a learned stem on standardised pixels), a ``Recipe``, or several
            of these (a list, or a dict of labels to recipes), run side by side (the
            table's ``recipe`` column).
        out: run folder: finished runs are stored there at once and reused when the
            same study runs again (resume); ``None`` keeps everything in memory.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda:1"``, …
        names: class names, real first (default ``real`` and the fakes' file names, as
            ``data.naming.default_set_names`` gives them).
        test_size, split_seed, paired: the one train/test split of the study
            (``freqprobe.train_test_split``).
        pairwise: with several fakes, also one binary task per pair of sets.
        null: add the null control (the real set against itself; must sit at chance).
        progress: a one-line log per finished run, and progress bars (on a terminal or in Jupyter).
        executor: where the runs execute: ``"local"`` (in this process), ``"ray"`` (Ray
            tasks, one per run: ``freqprobe.execution.ray_executor``) or an object with
            ``run(jobs)`` (``freqprobe.execution`` describes the interface). Whatever runs
            them, this process alone writes ``out``, holding its lock (``io.folder_lock``):
            a second study into the same folder waits for this one, then reuses its runs.
        address: the Ray cluster to join (default ``RAY_ADDRESS``, else Ray on this machine).
        limits: an audiogram of ``real`` (``fp.detection_limits``' result or run folder; by
            default ``out/limits`` when it holds one): adds ``detection_limit`` (grey levels)
            and says, for each variant at chance, what size of difference it rules out.

    Every (task, variant) also gets the linear second opinion (``linear_*`` columns): a
    logistic regression on spectral statistics of the same images (``training/linear.py``).

    Returns:
        An ``AblationResult`` (``.table``, ``.summary``, ``.save(dir)``, ``.plot()``).

    Raises:
        FreqprobeError: bad variants, sets of different sizes, a set too small to
            split, an unknown mode, a model that does not give K logits — all before
            any training.
    """
    if out is not None:
        check_output_folder(out, "out")  # before any loading or training
    modes = MODES if mode == "both" else (mode,) if isinstance(mode, str) else tuple(mode)
    if not modes or any(m not in MODES for m in modes):
        raise FreqprobeError(f"mode must be retrain, probe or both, got {mode!r}")
    if isinstance(executor, str):
        check_executor(executor)  # an unknown name, or ray without Ray, before any loading
    if out is not None:
        claim_folder(out, "ablate")
    seed_list = resolve_seeds(seeds)
    if not isinstance(model, str):
        raise FreqprobeError(f"model must be fast, resnet18 or module:factory (a name: ablate builds and trains it), "
                             f"got {type(model).__name__}")  # fmt: skip
    sets = _named_sets(real, fakes, names)
    size = next(iter(sets.values())).size
    variants = [variants] if isinstance(variants, str) else variants
    if not isinstance(variants, Sequence) or not all(isinstance(v, str) for v in variants):
        raise FreqprobeError(f"variants must be a transform spec or a list of them, got {variants!r}")
    parsed = {str(t): t for t in (transform(v, size=size) for v in variants)}  # errors now, before training
    if not parsed:
        raise FreqprobeError("give at least one variant")
    specs = list(parsed)
    shapes = {spec: t.output_shape((3, *size)) for spec, t in parsed.items()}
    representations = [spec for spec, t in parsed.items() if not t.is_image]
    if "probe" in modes and representations:
        raise FreqprobeError(
            f"{representations[0]} is a representation, not an image: a model trained on the originals cannot "
            "read it; retrain on it instead (mode='retrain', command line --mode retrain)"
        )
    # only the local executor trains here; a Ray worker (or a user's executor) resolves the device itself
    device = resolve_device(device) if executor == "local" else str(device)
    recipes = _recipes(recipe)
    if model not in MODELS:  # stem and read-out are built-in: a user's network is the same under any recipe
        recipes = {name: dataclasses.replace(r, whiten=False, readout=False) for name, r in recipes.items()}
    tasks = build_tasks(sets, test_size, split_seed, paired, pairwise, null, seed_list)
    for classes in sorted({len(task.classes) for task in tasks}):  # a user model must fit every task
        for shape in set(shapes.values()):
            build_classifier(model, classes, shape)
    from ..limits.stated import find_audiogram, state_detection_limit  # limits builds on ablation: imported here

    fingerprints = tuple(s.fingerprint() for s in sets.values())
    audiogram = find_audiogram(limits, out, fingerprints[0])  # a bad --limits fails before any training
    runner = get_executor(executor, device, progress, address)
    with folder_lock(out) if out is not None else contextlib.nullcontext():  # one study writes a folder
        store, linear_store = RunStore(out), RunStore(out, "linear")
        _warn_about_copies(sets, fingerprints, tasks[0])
        digests = {id(task): samples_digest(task) for task in tasks}  # one null control per seed: not by name
        plan = [
            _Run(name, task, variant, seed, scored, _spec(task, variant, seed, model, r, fingerprints, digests))
            for name, r in recipes.items()
            for task, variant, seed, scored in _plan(tasks, specs, seed_list, modes)
        ]
        jobs = _jobs(plan, store, linear_store)
        pending = {job.spec.key for job in jobs}
        runs_of: dict[str, list[_Run]] = {}  # a run key serves several rows (probe mode, recipes of a user model)
        for run in plan:
            runs_of.setdefault(run.spec.key, []).append(run)
        with tqdm(total=len(plan), desc="runs", disable=None if progress else True) as bar:  # None: not off a terminal
            counts = {"finished": 0, "stored": 0}
            for run in plan:
                if run.spec.key not in pending:
                    _log(bar, run, store, linear_store, "stored run", progress)
                    counts["stored"] += 1
                    bar.update()
            _show(bar, counts, runner, len(jobs))
            for done in runner.run(jobs):
                key = done.job.spec.key
                store.put(key, done.record, done.state)
                if done.linear is not None:
                    linear_store.put(done.job.spec.linear_key, done.linear)
                counts["finished"] += 1
                for run in runs_of[key]:
                    _log(bar, run, store, linear_store, f"{done.record['train_seconds']:.1f} s train", progress)
                    bar.update()
                _show(bar, counts, runner, len(jobs))
        rows, confusion_rows, trained_under = [], [], {}
        for run in plan:
            record, linear = store.record(run.spec.key), linear_store.record(run.spec.linear_key, False)
            run_rows, run_confusion = _rows(run, record, linear)
            rows += run_rows
            confusion_rows += run_confusion
            trained_under.setdefault(record.get("trained_on", "an older freqprobe"), set()).add(run.spec.key)
        result = AblationResult(pd.DataFrame(rows, columns=RESULT_COLUMNS), pd.DataFrame(confusion_rows), None, store)
        _warn_about_mixed_settings(trained_under)
        if audiogram is not None:
            labels = {name: r.label for name, r in recipes.items()}
            result.table, notes = state_detection_limit(result.table, result.summary, audiogram, model, labels)
            for note in notes if progress else []:
                print(note)
        table = result.table
        below = table[(table["task"] != NULL_CONTROL) & (table["ci_high"] < table["chance"])]
        if len(below):
            worst = below.loc[below["accuracy"].idxmin()]
            warnings.warn(
                f"accuracy below chance in {len(below)} of {len(result.table)} rows, e.g. {worst['task']} "
                f"{worst['variant']}: {worst['accuracy']:.3f} "
                f"[{worst['ci_low']:.3f}, {worst['ci_high']:.3f}] against {worst['chance']:.2f} — images shared "
                "between the sets, or classes mixed up; do not read these as 'no difference'",
                stacklevel=2,
            )
        if null and not result.null_ok:  # above chance after a Bonferroni correction over seeds
            warnings.warn(
                "NULL CONTROL FAILED: the real set told apart from itself above chance (one-sided binomial test, "
                f"Bonferroni over its runs; see the {NULL_CONTROL!r} rows) — leakage between train and test, or a "
                "bug. Do not trust this study.",
                stacklevel=2,
            )
        missed = result.missed_by_network
        if len(missed):
            listed = ", ".join(
                f"{r.task} {r.variant} ({r.recipe}, {r.mode}: {r.accuracy:.2f} vs linear {r.linear_accuracy:.2f})"
                for r in missed.itertuples()
            )
            warnings.warn(
                f"the network misses what a linear probe finds on {listed}: its accuracy understates the difference",
                stacklevel=2,
            )
        if out is not None:
            result.save(out)
            result.folder = Path(out)
            warn_about_left_out_variants(Path(out), result.table)
    return result


def _warn_about_mixed_settings(trained_under: dict[str, set[str]]) -> None:
    """A resumed study whose runs were trained under different devices or CPU thread counts
    mixes numbers that would differ in their last digits if trained under one."""
    if len(trained_under) > 1:
        listed = "; ".join(f"{len(keys)} on {setting}" for setting, keys in sorted(trained_under.items()))
        warnings.warn(
            f"this study's runs were trained under different settings ({listed}): each is reproducible only under "
            "its own; for numbers that all repeat exactly, run the study again into a new folder",
            stacklevel=3,
        )


def _warn_about_copies(sets: dict[str, ImageSet], fingerprints: tuple[str, ...], task: Task) -> None:
    """Warn about two sets that hold the same images, and about test images whose exact
    copy is trained under another class (twins kept on one side of the split are fine)."""
    for fingerprint in set(fingerprints):
        same = [name for name, f in zip(sets, fingerprints) if f == fingerprint]
        if len(same) > 1:
            listed = " and ".join(same)
            warnings.warn(f"sets {listed} hold the same images: no classifier can tell them apart", stacklevel=3)
    leaked = leaked_copies(task)
    if leaked:
        warnings.warn(
            f"{leaked} of the {len(task.test)} test images have an exact copy among the training images of another "
            "class: the network is taught the opposite answer for them (accuracy falls, below chance when many "
            "do); remove the duplicates",
            stacklevel=3,
        )


def _named_sets(real, fakes, names) -> dict[str, ImageSet]:
    fake_list = list(fakes) if isinstance(fakes, (list, tuple)) else [fakes]
    if not fake_list:
        raise FreqprobeError("give at least one generated set")
    loaded = [s if isinstance(s, ImageSet) else load_images(s) for s in [real, *fake_list]]
    names = default_set_names(loaded[0], loaded[1:]) if names is None else [str(n) for n in names]
    if len(names) != len(loaded) or len(set(names)) != len(names):
        raise FreqprobeError(f"names must be {len(loaded)} distinct names (real first), got {names}")
    if any("|" in name for name in names):  # pairwise tasks are named pair:A|B
        raise FreqprobeError(f"names must not contain '|', got {names}")
    check_table_names(names, "set name")
    return dict(zip(names, loaded))


@dataclasses.dataclass(frozen=True)
class _Run:
    """One planned training: its spec, and the (test variant, row label, mode) it is scored on."""

    recipe_name: str
    task: Task
    variant: str
    seed: int
    scored: list[tuple[str, str, str]]
    spec: RunSpec

    @property
    def tested(self) -> tuple[str, ...]:
        return tuple(v for v, _, _ in self.scored)


def _spec(task: Task, variant: str, seed: int, model: str, recipe: Recipe, fingerprints, digests) -> RunSpec:
    return RunSpec(
        task=task.name,
        classes=task.classes,
        data=fingerprints,
        samples=digests[id(task)],
        variant=variant,
        seed=seed,
        model=model,
        recipe=recipe,
    )


def _jobs(plan: list[_Run], store: RunStore, linear_store: RunStore) -> list[Job]:
    """A job per run not finished in the store (scores missing, or the linear probe of its
    variant, which the first such job of each variant fits)."""
    jobs, keys, linear_taken = [], set(), set()
    for run in plan:
        spec = run.spec
        if spec.key in keys:  # two recipe labels for one recipe: one run
            continue
        record = store.record(spec.key)
        linear = linear_store.record(spec.linear_key, weights=False)
        fits_linear = spec.linear_key not in linear_taken and (
            linear is None or any(v not in linear["scores"] for v in run.tested)
        )
        if record is not None and all(v in record["scores"] for v in run.tested) and not fits_linear:
            continue
        if fits_linear:
            linear_taken.add(spec.linear_key)
            linear = linear or {"key": spec.linear_key, "variant": spec.variant, "scores": {}}
        weights = None if record is None else store.weights(spec.key)
        keys.add(spec.key)
        jobs.append(Job(spec, run.task, run.tested, record, weights, linear if fits_linear else None))
    return jobs


def _rows(run: _Run, record: dict, linear: dict | None) -> tuple[list[dict], list[dict]]:
    """The table rows (and K-way confusion rows) of a finished run; linear columns are NaN
    until the linear probe of its variant is stored."""
    rows, confusion_rows = [], []
    for test_variant, label, run_mode in run.scored:
        score = record["scores"][test_variant]
        linear_score = linear["scores"].get(test_variant) if linear else None
        rows.append(
            {
                "task": run.task.name,
                "variant": label,
                "seed": run.seed,
                "mode": run_mode,
                "recipe": run.recipe_name,
                "model": run.spec.model,
                "train_variant": run.variant,
                **{k: v for k, v in score.items() if k != "confusion"},
                **{f"linear_{k}": linear_score[k] if linear_score else float("nan") for k in LINEAR_COLUMNS},
                "run": run.spec.key,
            }
        )
        if len(run.task.classes) > 2:
            confusion_rows += _confusion_rows(run.task, label, run.seed, run_mode, run.recipe_name, score["confusion"])
    return rows, confusion_rows


def _show(bar, counts: dict[str, int], runner: Executor, n_jobs: int) -> None:
    """The bar's counts: runs finished in this call, running now, stored by an earlier call."""
    left = n_jobs - counts["finished"]
    running = getattr(runner, "running", min(left, 1))  # an executor may say; in process, one at a time
    bar.set_postfix_str(f"finished {counts['finished']}, running {running}, stored {counts['stored']}", refresh=True)


def _log(bar, run: _Run, store: RunStore, linear_store: RunStore, origin: str, progress: bool) -> None:
    if progress:
        rows, _ = _rows(run, store.record(run.spec.key), linear_store.record(run.spec.linear_key, False))
        for row in rows:
            bar.write(_log_line(row, origin))


def _plan(tasks: list[Task], specs: list[str], seeds: list[int], modes: tuple[str, ...]):
    """``(task, training variant, seed, [(test variant, row label, mode)])`` per training."""
    plan = []
    for seed in seeds:
        for task in tasks:
            if task.name == NULL_CONTROL:  # its own halves per seed
                if task.seed == seed:
                    plan.append((task, "original", seed, [("original", NULL_CONTROL, "retrain")]))
                continue
            trainings: dict[str, list[tuple[str, str, str]]] = {}
            if "retrain" in modes:
                for spec in specs:
                    trainings.setdefault(spec, []).append((spec, spec, "retrain"))
            if "probe" in modes:
                trainings.setdefault("original", []).extend((spec, spec, "probe") for spec in specs)
            plan += [(task, variant, seed, scored) for variant, scored in trainings.items()]
    return plan


def resolve_seeds(seeds: int | Sequence[int]) -> list[int]:
    """Seeds ``0 .. seeds - 1`` for a count, else the given ints."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seed_list = list(range(seeds))
    elif isinstance(seeds, Iterable) and not isinstance(seeds, str):
        seed_list = list(seeds)
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seed_list):
            seed_list = []
    else:
        seed_list = []
    if not seed_list:
        raise FreqprobeError(f"seeds must be a positive count or a non-empty list of ints, got {seeds!r}")
    return [int(s) for s in seed_list]


def _recipes(recipe) -> dict[str, Recipe]:
    """Recipes by their labels, from a name, a ``Recipe``, a sequence of them or a dict."""
    if isinstance(recipe, Mapping):
        recipes = {str(name): get_recipe(r) for name, r in recipe.items()}
    elif isinstance(recipe, (str, Recipe)) or (isinstance(recipe, Sequence) and recipe):
        recipes = {}
        for item in [recipe] if isinstance(recipe, (str, Recipe)) else list(recipe):
            r = get_recipe(item)
            recipes.setdefault(item if isinstance(item, str) else r.label, r)
    else:
        raise FreqprobeError(f"recipe must be a name, a Recipe, or a list or dict of them, got {recipe!r}")
    if not recipes:
        raise FreqprobeError("give at least one recipe")
    return recipes


def _confusion_rows(task: Task, variant: str, seed: int, mode: str, recipe: str, matrix) -> list[dict]:
    return [
        {"task": task.name, "variant": variant, "seed": seed, "mode": mode, "recipe": recipe, "true": t,
         "predicted": p, "count": n}  # fmt: skip
        for t, row in zip(task.classes, matrix)
        for p, n in zip(task.classes, row)
    ]


def _log_line(row: dict, origin: str) -> str:
    return (
        f"{row['task']:<8} {row['variant']:<28} {row['recipe']:<8} seed={row['seed']} {row['mode']:<7} "
        f"acc={row['accuracy']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}] "
        f"p={row['p_value']:.1e} auc={row['auc']:.3f} linear={row['linear_accuracy']:.3f} "
        f"({origin})"
    )
