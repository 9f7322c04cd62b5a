"""``compare``: the generator matrix — how well every pair of K sets is told apart."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..ablation import AblationResult
from ..display import TableDisplay
from ..errors import FreqprobeError
from ..io import write_table
from .pairs import CONTROL, GridOptions, SetSource, Unpack, pair_table, pairwise_study
from .tables import read_table


def compare(
    sets: Sequence[SetSource] | Mapping[str, SetSource],
    variants: str | Sequence[str] = ("original",),
    seeds: int | Sequence[int] = 3,
    *,
    names: Sequence[str] | None = None,
    size: int | tuple[int, int] | None = None,
    out: str | os.PathLike | None = None,
    **options: Unpack[GridOptions],
) -> CompareResult:
    """Classify every unordered pair of ``sets`` on each variant, over seeds.

    Runs ``fp.ablate`` on all the sets (the first as its real set, which the null control
    cuts in halves) with its pairwise tasks, into ``out``: a study already run there on the
    same sets (``freqprobe ablate`` with the same names, variants and seeds) is reused, not
    retrained, and an interrupted comparison resumes. ``out`` and the options are checked
    before any set is loaded. The other arguments (``options``: ``model``, ``recipe``,
    ``device``, ``test_size``, ``split_seed``, ``paired``, ``null``, ``progress``,
    ``executor``, ``address``) are ablate's.

    Args:
        sets: a list (named as ablate names them: ``real``, then file stems) or a dict of
            names to sets; anything ``load_images`` reads, cropped by ``size``.

    Returns:
        A ``CompareResult``: ``.table`` (``matrix.csv``: ``set_a, set_b, variant, accuracy,
        ci_low, ci_high``, … one row per pair and variant, means over seeds), ``.order``
        (the sets in the order of a hierarchical clustering), ``.save``, ``.plot``.
    """
    study, names = pairwise_study(sets, variants, seeds, names, size, out, options)
    result = CompareResult(pair_table(study, names), names, study)
    if out is not None:
        result.save(out)
    return result


@dataclasses.dataclass(repr=False)
class CompareResult(TableDisplay):
    """The pairwise matrix (``table``), the set names in input order and the ablate study."""

    table: pd.DataFrame
    names: list[str]
    study: AblationResult | None = None
    folder: Path | None = None

    @property
    def variants(self) -> list[str]:
        return [v for v in dict.fromkeys(self.table["variant"]) if v != CONTROL]

    def distances(self, variant: str | None = None) -> pd.DataFrame:
        """Symmetric K×K distances: ``(accuracy - chance) / (1 - chance)``, floored at 0
        (0: indistinguishable, 1: always told apart); zero on the diagonal."""
        variant = variant or self.variants[0]
        if variant not in self.variants:  # the null control is no distance between two sets
            raise FreqprobeError(f"no variant {variant!r} in this comparison; variants: {', '.join(self.variants)}")
        rows = self.table[self.table["variant"] == variant]
        index = pd.Index(self.names)
        a, b = index.get_indexer(rows["set_a"]), index.get_indexer(rows["set_b"])
        told = ((rows["accuracy"] - rows["chance"]) / (1 - rows["chance"])).clip(lower=0.0).to_numpy()
        d = np.zeros((len(index), len(index)))
        d[a, b] = d[b, a] = told
        return pd.DataFrame(d, index=self.names, columns=self.names)

    def linkage(self, variant: str | None = None) -> np.ndarray:
        """Average-linkage clustering of ``distances`` (``scipy.cluster.hierarchy`` format)."""
        from scipy.cluster.hierarchy import linkage
        from scipy.spatial.distance import squareform

        return linkage(squareform(self.distances(variant).to_numpy(), checks=False), method="average")

    def order(self, variant: str | None = None) -> list[str]:
        """The sets in dendrogram leaf order: sets hard to tell apart end up side by side."""
        from scipy.cluster.hierarchy import leaves_list

        return [self.names[k] for k in leaves_list(self.linkage(variant))]

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``matrix.csv`` and ``matrix.png/.pdf`` (beside ablate's own tables)."""
        from ..figures.experiments import save_matrix_figure

        folder = Path(folder)
        self.folder = folder
        paths = [write_table(self.table, folder / "matrix.csv")]
        return paths + save_matrix_figure(self.table, self.names, self.linkage(), folder / "matrix")

    def plot(self, variant: str | None = None):
        """Heat map of accuracies in clustering order, with the dendrogram above it."""
        from ..figures.experiments import plot_matrix

        return plot_matrix(self.table, self.names, self.linkage(variant), variant or self.variants[0])

    @classmethod
    def load(cls, folder: str | os.PathLike) -> CompareResult:
        """Read a saved comparison (and its ablate study, when there)."""
        folder = Path(folder)
        table = read_table(folder / "matrix.csv", "a comparison run folder", ("set_a", "set_b"))
        names = list(dict.fromkeys([*table["set_a"], *table["set_b"]]))
        study = AblationResult.load(folder) if (folder / "results.csv").exists() else None
        return cls(table, names, study, folder)

    def describe(self) -> str:
        where = f"; {self.folder}" if self.folder is not None else ""
        return f"{len(self.names)} sets, variants {', '.join(self.variants)}; order {', '.join(self.order())}{where}"
