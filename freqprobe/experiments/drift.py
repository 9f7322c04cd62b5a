"""``drift``: how far each generation (of a model retrained on its own samples, or each
checkpoint) has moved, from the real set and from the generation before it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..ablation import AblationResult
from ..data import ImageSet
from ..display import TableDisplay
from ..errors import FreqprobeError
from ..io import write_table
from .pairs import CONTROL, PAIR_COLUMNS, GridOptions, SetSource, Unpack, pair_table, pairwise_study
from .tables import read_table

DRIFT_COLUMNS = ["generation", "reference", "variant", "position", *PAIR_COLUMNS[3:]]


def drift(
    real: SetSource,
    generations: Sequence[SetSource],
    variants: str | Sequence[str] = ("original",),
    seeds: int | Sequence[int] = 3,
    *,
    names: Sequence[str] | None = None,
    size: int | tuple[int, int] | None = None,
    out: str | os.PathLike | None = None,
    **options: Unpack[GridOptions],
) -> DriftResult:
    """Accuracy of each generation against ``real`` and against the previous generation.

    Runs ``fp.ablate`` on ``real`` and all generations with its pairwise tasks into ``out``
    (resumable; a comparison of the same sets there shares its runs), then reads off the
    pairs (generation, real) and (generation, previous generation). The null control (real
    against itself) is position 0 of the curve. ``out`` and the options are checked before
    any set is loaded; the other arguments are ``compare``'s (ablate's).

    Args:
        generations: the sets in generation order; ``names`` names real first, then them.

    Returns:
        A ``DriftResult``: ``.table`` (``drift.csv``: ``generation, reference, variant,
        accuracy, ci_low, ci_high``, … in generation order; ``reference`` is ``real`` or
        ``previous``), ``.onset`` (per variant, the first generation told from real).
    """
    generations = list(generations) if not isinstance(generations, (str, os.PathLike, ImageSet)) else [generations]
    if not generations:
        raise FreqprobeError("give at least one generation")
    study, names = pairwise_study([real, *generations], variants, seeds, names, size, out, options)
    result = DriftResult(drift_table(pair_table(study, names), names), study)
    if out is not None:
        result.save(out)
    return result


def drift_table(pairs: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Rows of ``pairs`` as (generation, reference): the null control, then each generation
    against real and against the one before it (from the second on), variants in order."""
    real, generations = names[0], names[1:]
    by_pair = {(r.set_a, r.set_b, r.variant): r._asdict() for r in pairs.itertuples(index=False)}
    variants = [v for v in dict.fromkeys(pairs["variant"]) if v != CONTROL]
    rows = []
    if (real, real, CONTROL) in by_pair:
        rows.append({**by_pair[real, real, CONTROL], "generation": real, "reference": "real", "position": 0})
    for position, generation in enumerate(generations, start=1):
        references = [("real", real)] + ([("previous", generations[position - 2])] if position > 1 else [])
        for reference, other in references:
            for variant in variants:
                row = by_pair[(other, generation, variant)]
                rows.append({**row, "generation": generation, "reference": reference, "position": position})
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS)


@dataclasses.dataclass(repr=False)
class DriftResult(TableDisplay):
    """The drift curve (``table``) and the ablate study behind it."""

    table: pd.DataFrame
    study: AblationResult | None = None
    folder: Path | None = None

    @property
    def onset(self) -> pd.DataFrame:
        """Per variant, the first generation whose interval against real lies above chance
        (``generation`` empty when none does): which band drifts first."""
        rows = []
        against_real = self.table[(self.table["reference"] == "real") & (self.table["variant"] != CONTROL)]
        for variant, group in against_real.groupby("variant", sort=False):
            told = group[group["ci_low"] > group["chance"]]
            first = told.iloc[0] if len(told) else None
            rows.append({"variant": variant, "generation": "" if first is None else first["generation"],
                         "position": -1 if first is None else int(first["position"])})  # fmt: skip
        return pd.DataFrame(rows, columns=["variant", "generation", "position"])

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``drift.csv`` and ``drift.png/.pdf`` (beside ablate's own tables)."""
        from ..figures.experiments import save_drift_figure

        folder = Path(folder)
        self.folder = folder
        return [write_table(self.table, folder / "drift.csv"), *save_drift_figure(self.table, folder / "drift")]

    def plot(self, ax=None):
        """Accuracy against generation with intervals: solid against real, dashed against
        the previous generation, one colour per variant; the null control at position 0."""
        from ..figures.experiments import plot_drift

        return plot_drift(self.table, ax=ax)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> DriftResult:
        folder = Path(folder)
        table = read_table(folder / "drift.csv", "a drift run folder", ("generation", "reference"))
        study = AblationResult.load(folder) if (folder / "results.csv").exists() else None
        return cls(table, study, folder)

    def describe(self) -> str:
        generations = self.table.loc[self.table["position"] > 0, "generation"].unique()
        where = f"; {self.folder}" if self.folder is not None else ""
        return f"{len(generations)} generations, variants {', '.join(v for v in self.table['variant'].unique() if v != CONTROL)}{where}"
