"""Study files: one TOML file names the image sets, the size policy and the analyses with
their options; ``run_study`` runs them all into one run folder, each analysis in its own
sub-folder, resumably, and redraws every figure from the saved tables.

    out = "runs/my_study"        # run folder (paths are relative to the study file)
    figures = "figures"          # optional: where exported figures are copied
    size = 64                    # size policy: center-crop every set to S (or "HxW")
    device = "auto"

    [sets]
    real = "data/real"                            # a folder of images or an .npz
    sdxl = "data/sdxl.npz"
    demo_real = { demo = "real", n = 1000, size = 64 }   # the embedded demo sets

    [analyses.ablation]          # the name is the sub-folder; kind defaults to the name
    kind = "ablate"
    real = "real"                # set names; ablate: real and fakes, default all sets in order
    fakes = ["sdxl"]
    variants = ["original", "lowpass:0.15"]
    seeds = 3
    recipe = { epochs = 6 }      # a table becomes a Recipe
    export = ["ablation"]        # figures copied to `figures` (or a table: stem = new name)

Kinds and the options that name sets (every other option goes to the function as it is):
``spectrum`` (sets), ``ablate`` (real, fakes), ``attribute`` (model = an ablate analysis
of the study, real, fake), ``probe`` (model = an ablate analysis or a model path, data =
a labelled folder or a table class = set), ``compare`` (sets), ``drift`` (real,
generations), ``augment`` (real, generated, test: labelled, as probe's data).

An analysis that finished with the same options and the same images is not run again:
its figures are redrawn from its saved tables. Grid analyses (ablate, compare, drift,
augment) also resume run by run when interrupted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, get_args, get_type_hints

import numpy as np
import torch

from ..errors import FreqprobeError
from ..io import atomic_path, check_output_folder

#: The marker of a finished analysis: its options and the fingerprints of its images.
DONE = "analysis.json"
#: Per kind, the options that name image sets (resolved here, not passed as they are).
SET_OPTIONS = {
    "spectrum": ("sets",),
    "ablate": ("real", "fakes"),
    "attribute": ("model", "real", "fake"),
    "probe": ("model", "data"),
    "compare": ("sets",),
    "drift": ("real", "generations"),
    "augment": ("real", "generated", "test"),
}


@dataclasses.dataclass
class Study:
    """A parsed study file: where it writes, its sets (as written) and its analyses."""

    path: Path
    out: Path
    figures: Path | None
    size: int | tuple[int, int] | None
    device: str
    sets: dict[str, Any]
    analyses: dict[str, dict[str, Any]]

    def resolve(self, relative: str) -> Path:
        return (self.path.parent / relative).resolve() if not Path(relative).is_absolute() else Path(relative)


def read_study(path: str | os.PathLike) -> Study:
    """Parse and check a study file (kinds, set names, options) before any work."""
    path = Path(path)
    if not path.is_file():
        raise FreqprobeError(f"{path}: no such study file")
    try:
        text = _toml().loads(path.read_text())
    except ValueError as err:  # tomllib.TOMLDecodeError
        raise FreqprobeError(f"{path}: not valid TOML ({err})") from None
    unknown = set(text) - {"out", "figures", "size", "device", "sets", "analyses"}
    if unknown:
        raise FreqprobeError(f"{path}: unknown top-level key {sorted(unknown)[0]!r} (out, figures, size, device, sets, analyses)")
    if not text.get("analyses"):
        raise FreqprobeError(f"{path}: no [analyses.NAME] table; name at least one analysis")
    size = _size(text.get("size"), path)
    out = text.get("out", f"runs/{path.stem}")
    study = Study(path, Path(), None, size, str(text.get("device", "auto")), dict(text.get("sets", {})),
                  {str(k): dict(v) for k, v in text["analyses"].items()})  # fmt: skip
    study.out = study.resolve(out)
    study.figures = study.resolve(text["figures"]) if "figures" in text else None
    for name, spec in study.sets.items():
        _check_set(study, name, spec)
    for name, options in study.analyses.items():
        _check_analysis(study, name, options)
    return study


def run_study(path: str | os.PathLike, *, only=None, redraw: bool = False, progress: bool = True) -> dict[str, Any]:
    """Run every analysis of a study file (or those named in ``only``) into its run folder.

    ``redraw=True`` runs nothing: each finished analysis has its figures redrawn from its
    saved tables (and exported). Returns the results by analysis name.
    """
    study = read_study(path)
    names = list(study.analyses) if only is None else list(only)
    missing = [n for n in names if n not in study.analyses]
    if missing:
        raise FreqprobeError(f"{study.path}: no analysis {missing[0]!r}; analyses: {', '.join(study.analyses)}")
    check_output_folder(study.out, f"{study.path}: out")  # before any set is loaded or run trained
    if study.figures is not None:
        check_output_folder(study.figures, f"{study.path}: figures")
    sets = SetLoader(study)
    return {name: _run_analysis(study, name, sets, redraw, progress) for name in names}


def _run_analysis(study: Study, name: str, sets: SetLoader, redraw: bool, progress: bool):
    """Run one analysis (or load it when finished with the same identity), save, export."""
    options, folder = study.analyses[name], study.out / name
    kind = options.get("kind", name)
    start = time.perf_counter()
    given = {k: v for k, v in options.items() if k not in ("kind", "export")}
    identity = None if redraw else _identity(study, {"kind": kind, **given}, sets)
    if redraw or _finished(folder, identity):
        if not (folder / DONE).is_file():
            raise FreqprobeError(f"{folder}: analysis {name} has not finished; run the study without --redraw")
        result, how = KINDS[kind].result().load(folder), "redrawn from its tables"
        result.save(folder)
    else:
        result, how = RUNNERS[kind](study, dict(given), sets, folder), "finished"
        result.save(folder)
        with atomic_path(folder / DONE) as partial:
            partial.write_text(json.dumps(identity, indent=1, default=str) + "\n")
    exported = _export(study, folder, options.get("export", []))
    if progress:
        listed = f"; exported {', '.join(p.name for p in exported)}" if exported else ""
        print(f"{name} ({kind}): {how} in {time.perf_counter() - start:.1f} s -> {folder}{listed}", file=sys.stderr)
    return result


def _size(size, path: Path) -> int | tuple[int, int] | None:
    """The size policy: ``S``, ``"HxW"`` or ``[H, W]`` (a center crop), or none."""
    if isinstance(size, str) and size.lower().count("x") == 1:
        size = size.lower().split("x")
    if isinstance(size, list) and len(size) == 2:
        try:
            size = (int(size[0]), int(size[1]))
        except ValueError:
            pass
    valid = size is None or (isinstance(size, int) and size > 0) or (
        isinstance(size, tuple) and min(size) > 0)  # fmt: skip
    if not valid:
        raise FreqprobeError(f"{path}: size must be S, 'HxW' or [H, W] in pixels, got {size!r}")
    return size


def _check_set(study: Study, name: str, spec) -> None:
    if isinstance(spec, str):
        return
    if not isinstance(spec, dict) or spec.get("demo") not in ("real", "generated") or set(spec) - {"demo", "n", "size", "seed"}:
        raise FreqprobeError(
            f"{study.path}: set {name} must be a path or a table demo = 'real' | 'generated' (and n, size, seed)"
        )


def _toml():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def _check_analysis(study: Study, name: str, options: dict[str, Any]) -> None:
    where = f"{study.path}: analysis {name}"
    kind = options.get("kind", name)
    if kind not in RUNNERS:
        raise FreqprobeError(f"{where}: unknown kind {kind!r}; kinds: {', '.join(RUNNERS)}")
    if "/" in name or name.startswith("."):
        raise FreqprobeError(f"{where}: an analysis name is a sub-folder name (no '/', no leading '.')")
    absent = [option for option in REQUIRED.get(kind, ()) if option not in options]
    if absent:
        raise FreqprobeError(f"{where}: {kind} needs {absent[0]} = ...")
    for option in SET_OPTIONS[kind]:
        value = options.get(option)
        if option == "model":  # an ablate analysis before this one, else a model source
            earlier = list(study.analyses)[: list(study.analyses).index(name)]
            if value in study.analyses and (value not in earlier or study.analyses[value].get("kind", value) != "ablate"):
                raise FreqprobeError(f"{where}: model {value!r} must be an ablate analysis listed before it")
            continue
        if option in LABELLED.get(kind, ()) and isinstance(value, str):
            continue  # a folder with one sub-folder per class
        for set_name in _as_list(value):
            if set_name not in study.sets:
                raise FreqprobeError(f"{where}: {option} names no set {set_name!r}; sets: {', '.join(study.sets) or 'none'}")
    accepted = _keywords(KINDS[kind].function()) - set(FILLED[kind])
    unknown = sorted(set(options) - accepted - set(SET_OPTIONS[kind]) - {"kind", "export"})
    if unknown:
        raise FreqprobeError(f"{where}: unknown option {unknown[0]!r} for {kind}")


def _keywords(function: Callable) -> set[str]:
    """The keyword arguments ``function`` takes: its named parameters, and the keys of the
    ``TypedDict`` that types its ``**options`` (``Unpack[GridOptions]``)."""
    parameters = inspect.signature(function).parameters.values()
    names = {p.name for p in parameters if p.kind is not p.VAR_KEYWORD}
    for p in parameters:
        if p.kind is p.VAR_KEYWORD:
            (options,) = get_args(get_type_hints(function)[p.name])
            names |= set(options.__annotations__)
    return names


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else [value]


class SetLoader:
    """The study's sets, loaded once each, by name; labelled sets from folders or class tables."""

    def __init__(self, study: Study) -> None:
        self.study, self._loaded = study, {}

    def __call__(self, name: str):
        from ..data import demo_sets, load_images

        if name not in self._loaded:
            spec = self.study.sets[name]
            if isinstance(spec, dict):
                if spec.get("demo") not in ("real", "generated"):
                    raise FreqprobeError(f"{self.study.path}: set {name}: a table needs demo = 'real' or 'generated'")
                real, generated = demo_sets(n=spec.get("n", 1000), size=spec.get("size", 64), seed=spec.get("seed", 0))
                self._loaded[name] = real if spec["demo"] == "real" else generated
            else:
                self._loaded[name] = load_images(self.study.resolve(spec), size=self.study.size)
        return self._loaded[name]

    def labelled(self, value):
        """A labelled source: a folder (one sub-folder per class) or a table class = set name."""
        from ..data import ImageSet

        if isinstance(value, str):
            return self.study.resolve(value)
        parts = {cls: self(set_name) for cls, set_name in value.items()}
        images = torch.cat([s.images for s in parts.values()])
        names = [f"{cls}/{n}" for cls, s in parts.items() for n in s.names]
        labels = np.repeat(np.arange(len(parts)), [len(s) for s in parts.values()])
        return ImageSet(images, names, "study"), labels, list(parts)


def _identity(study: Study, options: dict, sets: SetLoader) -> dict:
    """What an analysis depends on: its options and the fingerprints of the sets it reads
    (of a study model: the marker of its ablate analysis)."""
    kind = options.get("kind")
    named = {v for option in SET_OPTIONS[kind] for v in _as_list(options.get(option)) if v in study.sets}
    if ALL_BY_DEFAULT.get(kind) is not None and ALL_BY_DEFAULT[kind] not in options:
        named = set(study.sets)
    depends = {name: sets(name).fingerprint() for name in sorted(named)}
    model = options.get("model")
    if model in study.analyses and (study.out / model / DONE).is_file():
        depends[f"analysis:{model}"] = hashlib.sha256((study.out / model / DONE).read_bytes()).hexdigest()[:16]
    return {"options": options, "size": study.size, "depends": depends}


def _finished(folder: Path, identity: dict) -> bool:
    try:
        return json.loads((folder / DONE).read_text()) == json.loads(json.dumps(identity, default=str))
    except (OSError, ValueError):
        return False


def _export(study: Study, folder: Path, export) -> list[Path]:
    """Copy ``folder/<stem>.png/.pdf`` to the study's figures folder (under a new name when mapped)."""
    stems = export if isinstance(export, dict) else {stem: stem for stem in export}
    if stems and study.figures is None:
        raise FreqprobeError(f"{study.path}: export needs a top-level figures = 'FOLDER'")
    copied = []
    for stem, target in stems.items():
        for suffix in (".png", ".pdf"):
            source = folder / f"{stem}{suffix}"
            if not source.is_file():
                raise FreqprobeError(f"{source}: no such figure to export (the analysis wrote {_figures(folder)})")
            with atomic_path(study.figures / f"{target}{suffix}") as partial:
                shutil.copyfile(source, partial)
            copied.append(study.figures / f"{target}{suffix}")
    return copied


def _figures(folder: Path) -> str:
    return ", ".join(sorted(p.stem for p in folder.glob("*.png"))) or "none"


def _recipe(options: dict) -> dict:
    if isinstance(options.get("recipe"), dict):
        from ..training import Recipe

        options = {**options, "recipe": Recipe(**options["recipe"])}
    return options


def _study_model(study: Study, value):
    """An ablate analysis of this study (its saved result), else the value as a model source."""
    from ..ablation import AblationResult

    if isinstance(value, str) and value in study.analyses:
        return AblationResult.load(study.out / value)
    return str(study.resolve(value)) if isinstance(value, str) and ":" not in value else value


def _spectrum(study, options, sets, folder):
    from ..spectra import spectrum

    names = _as_list(options.pop("sets", list(study.sets)))
    return spectrum(*(sets(n) for n in names), names=names, device=study.device, **options)


def _ablate(study, options, sets, folder):
    from ..ablation import ablate

    real = options.pop("real", next(iter(study.sets)))
    fakes = _as_list(options.pop("fakes", [n for n in study.sets if n != real]))
    names = options.pop("names", [real, *fakes])  # class names: the set names unless given
    return ablate(sets(real), [sets(n) for n in fakes], names=names, out=folder,
                  **{"device": study.device, **_recipe(options)})  # fmt: skip


def _attribute(study, options, sets, folder):
    from ..attribution import attribute

    source = _study_model(study, options.pop("model"))
    return attribute(source, sets(options.pop("real")), sets(options.pop("fake")), **{"device": study.device, **options})


def _probe(study, options, sets, folder):
    from ..ablation import AblationResult
    from ..probe import probe

    source = _study_model(study, options.pop("model"))
    if isinstance(source, AblationResult):  # every seed's model trained on the originals
        variant = "original"
        seeds = source.table.loc[source.table["train_variant"] == variant, "seed"].unique()
        source = {f"seed {s}": source.model(variant, int(s)) for s in seeds}
    return probe(source, sets.labelled(options.pop("data")), **{"device": study.device, **options})


def _compare(study, options, sets, folder):
    from .compare import compare

    names = _as_list(options.pop("sets", list(study.sets)))
    return compare({n: sets(n) for n in names}, out=folder, **{"device": study.device, **_recipe(options)})


def _drift(study, options, sets, folder):
    from .drift import drift

    real, generations = options.pop("real"), _as_list(options.pop("generations"))
    names = options.pop("names", [real, *generations])
    return drift(sets(real), [sets(n) for n in generations], names=names, out=folder,
                 **{"device": study.device, **_recipe(options)})  # fmt: skip


def _augment(study, options, sets, folder):
    from .augment import augment_vs_replace

    parts = [sets.labelled(options.pop(k)) for k in ("real", "generated", "test")]
    return augment_vs_replace(*parts, out=folder, **{"device": study.device, "size": study.size, **_recipe(options)})


class Kind(NamedTuple):
    """Where a kind of analysis lives: its module, its function and its result class
    (imported when first used, so that reading a study file stays light)."""

    module: str
    function_name: str
    result_name: str

    def function(self) -> Callable:
        return getattr(importlib.import_module(f"freqprobe.{self.module}"), self.function_name)

    def result(self) -> type:
        return getattr(importlib.import_module(f"freqprobe.{self.module}"), self.result_name)


KINDS = {
    "spectrum": Kind("spectra", "spectrum", "SpectrumReport"), "ablate": Kind("ablation", "ablate", "AblationResult"),
    "attribute": Kind("attribution", "attribute", "AttributionReport"), "probe": Kind("probe", "probe", "ProbeReport"),
    "compare": Kind("experiments.compare", "compare", "CompareResult"),
    "drift": Kind("experiments.drift", "drift", "DriftResult"),
    "augment": Kind("experiments.augment", "augment_vs_replace", "AugmentResult"),
}  # fmt: skip
RUNNERS = {"spectrum": _spectrum, "ablate": _ablate, "attribute": _attribute, "probe": _probe,
           "compare": _compare, "drift": _drift, "augment": _augment}  # fmt: skip
#: Options a kind cannot do without.
REQUIRED = {"attribute": ("model", "real", "fake"), "probe": ("model", "data"), "drift": ("real", "generations"),
            "augment": ("real", "generated", "test")}  # fmt: skip
#: Options that may name a labelled folder instead of a table of class = set.
LABELLED = {"probe": ("data",), "augment": ("real", "generated", "test")}
#: The option whose absence means "every set of the study".
ALL_BY_DEFAULT = {"spectrum": "sets", "ablate": "fakes", "compare": "sets"}
#: Parameters a runner fills itself (never options of the file).
FILLED = {
    "spectrum": ("real", "fakes", "names", "device"), "ablate": ("real", "fakes", "out", "device"),
    "attribute": ("source", "real", "fake", "device"), "probe": ("model", "data", "device"),
    "compare": ("sets", "out", "device"), "drift": ("real", "generations", "out", "device"),
    "augment": ("real", "generated", "test", "out", "device", "size"),
}  # fmt: skip
