"""What an ablation at chance can claim: the detection limit from its real set's audiogram.

An accuracy at chance is evidence of "no difference" only down to what the classifier
could have found. When an audiogram of the same real set (same fingerprint), model and
recipe is at hand, each study row gets ``detection_limit``: the largest network threshold
over the audiogram's frequencies (grey levels; above it a sinusoid at any of them was
detected), and every variant at chance gets a sentence saying so. Only a sinusoid
audiogram states a limit: its sentence ("no difference above A grey levels at these
frequencies") is what a sinusoid measures; the other probes are reported on their own.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..ablation.tasks import NULL_CONTROL
from .audiogram import DetectionLimits


def find_audiogram(
    limits: DetectionLimits | str | os.PathLike | None, out: str | os.PathLike | None, fingerprint: str
) -> DetectionLimits | None:
    """``limits`` (a result or its folder), else ``out/limits`` if it holds one; only a
    sinusoid audiogram of the set with ``fingerprint`` and a network threshold, measured by
    this version of freqprobe (a version can change what a recipe trains), counts."""
    if limits is None:
        folder = None if out is None else Path(out) / "limits"
        if folder is None or not (folder / "limits.json").exists():
            return None
        limits = folder
    audiogram = limits if isinstance(limits, DetectionLimits) else DetectionLimits.load(limits)
    if audiogram.probe != "sinusoid":
        warnings.warn(f"the audiogram in {audiogram.folder or 'limits'} plants {audiogram.probe}, not a sinusoid: "
                      "no detection limit stated", stacklevel=3)  # fmt: skip
        return None
    if audiogram.settings["fingerprint"] != fingerprint or "network" not in audiogram.detectors:
        warnings.warn(
            f"the audiogram in {audiogram.folder or 'limits'} is not of this real set's network (fingerprint "
            f"{audiogram.settings['fingerprint']}, detectors {', '.join(audiogram.detectors)}): no detection limit stated",
            stacklevel=3,
        )
        return None
    if audiogram.settings.get("version") != __version__:
        warnings.warn(f"the audiogram in {audiogram.folder or 'limits'} measured the network of freqprobe "
                      f"{audiogram.settings.get('version', '< 0.3')} (this is {__version__}): no detection limit stated; "
                      "measure it again", stacklevel=3)  # fmt: skip
        return None
    return audiogram


def state_detection_limit(
    table: pd.DataFrame, summary: pd.DataFrame, audiogram: DetectionLimits, model: str, recipe_labels: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """``table`` with a ``detection_limit`` column (NaN where the audiogram's network is not
    the row's: another model or recipe, or the null control) and one sentence per summary
    row at chance."""
    settings = audiogram.settings
    applies = lambda frame: ((frame["task"] != NULL_CONTROL) & (model == settings["model"])
                             & frame["recipe"].map(recipe_labels).eq(settings["recipe"]))  # fmt: skip
    detected = audiogram.table[np.isfinite(audiogram.table["threshold_network_high"])]
    limit = float(detected["threshold_network_high"].max()) if len(detected) else math.inf
    table = table.assign(detection_limit=np.where(applies(table), limit, np.nan))
    if not len(detected):
        return table, []
    missed = len(audiogram.table) - len(detected)
    where = (f"the audiogram's {len(detected)} frequencies (radius {detected['radius'].min():.3g}-"
             f"{detected['radius'].max():.3g} cycles/px)")  # fmt: skip
    caveat = f"; at {missed} more it found nothing up to {settings['amplitudes'][1]:g} grey levels" if missed else ""
    at_chance = summary[applies(summary) & (summary["ci_low"] <= summary["chance"])]
    notes = [
        f"{row.task} {row.variant} ({row.recipe}, {row.mode}) is at chance: no difference above {limit:.3g} grey "
        f"levels at {where} was detectable by this classifier (measured on the originals of this real set){caveat}"
        + ("" if row.variant == "original" else f"; for {row.variant} it holds only at those of these frequencies it keeps")
        for row in at_chance.itertuples()
    ]
    return table, notes
