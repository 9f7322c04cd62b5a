"""``fp.html_report(folder)`` / ``freqprobe report DIR``: one self-contained HTML page per run folder.

The page answers, in order: is there a difference (ablation accuracies, spectra against the
real set), where is it in frequency (filtered variants, spectra and peaks), what does the
classifier use (attribution), how does a classifier hold up under distortions (probe),
then any other analysis it finds (each CSV and PNG as it is) and the warnings.
"""

from __future__ import annotations

import dataclasses
import html
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..ablation import AblationResult
from ..attribution import AttributionReport
from ..errors import FreqprobeError
from ..io import atomic_path
from ..probe.report import ProbeReport
from ..runfolder import folder_kind
from ..warnlog import WARNINGS_FILE, read_warnings
from ..spectra import SpectrumReport
from .html import fragment_html, note_html, page_html, section_html, warning_html

#: Blocks of HTML per section key.
Blocks = dict[str, list[str]]

#: Sections in reading order: (key, title).
SECTIONS = (
    ("difference", "Is there a difference?"),
    ("frequency", "Where is it in frequency?"),
    ("classifier", "What does the classifier use?"),
    ("probe", "How does a classifier hold up under distortions?"),
    ("other", "Other analyses"),
    ("warnings", "Warnings"),
)
#: How each kind of run folder (``runfolder.folder_kind``) is read.
LOADERS: dict[str, Callable[[Path], Any]] = {
    "ablate": AblationResult.load,
    "spectrum": SpectrumReport.load,
    "attribute": AttributionReport.load,
    "probe": ProbeReport.load,
}
#: How deep below the run folder analyses are looked for.
MAX_DEPTH = 3
REPORT_NAME = "report.html"


@dataclasses.dataclass(repr=False)
class RunReport:
    """The report's blocks per section; ``html`` is the whole page, ``save`` writes it."""

    title: str
    blocks: Blocks
    folder: Path | None = None

    @property
    def warnings(self) -> list[str]:
        return list(self.blocks.get("warnings", []))

    def body(self) -> str:
        present = [(key, title) for key, title in SECTIONS if self.blocks.get(key) or key == "warnings"]
        nav = " ".join(f'<a href="#{key}">{html.escape(title)}</a>' for key, title in present)
        parts = [f"<h1>{html.escape(self.title)}</h1>", f"<nav>{nav}</nav>"]
        for key, title in present:
            if key == "warnings":
                shown = [warning_html(text) for text in self.warnings] or [note_html("none found")]
                parts.append(section_html(key, f"{title} ({len(self.warnings)})", shown))
            else:
                parts.append(section_html(key, title, self.blocks[key]))
        return "\n".join(parts)

    @property
    def html(self) -> str:
        return page_html(self.title, self.body())

    def _repr_html_(self) -> str:
        return fragment_html(self.body())

    def __repr__(self) -> str:
        counts = ", ".join(f"{key} {len(self.blocks[key])}" for key, _ in SECTIONS if self.blocks.get(key))
        return f"RunReport: {self.title}; blocks: {counts or 'none'}"

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the page (default ``report.html`` in the run folder), atomically."""
        if path is None:
            if self.folder is None:
                raise FreqprobeError("this report has no run folder: give save() a file path")
            path = self.folder / REPORT_NAME
        path = Path(path)
        with atomic_path(path) as partial:
            partial.write_text(self.html, encoding="utf-8")
        return path


def report(folder: str | os.PathLike[str]) -> RunReport:
    """The report of a run folder: every analysis found in it or below it (any subset of
    ablate, spectrum, attribute and probe folders; any other folder's CSVs and PNGs).

    Raises:
        FreqprobeError: the folder does not exist or holds no table or figure at all.

    Example:
        >>> import freqprobe as fp, tempfile
        >>> real, fake = fp.demo_sets(n=8, size=16)
        >>> folder = tempfile.mkdtemp()
        >>> _ = fp.spectrum(real, fake, device="cpu").save(folder + "/spectrum")
        >>> page = fp.html_report(folder)
        >>> [title for key, title in SECTIONS if page.blocks.get(key)]
        ['Is there a difference?', 'Where is it in frequency?']
    """
    from .views import folder_view, result_view  # figures: matplotlib loads only when a report is made

    root = Path(folder)
    if not root.is_dir():
        raise FreqprobeError(f"{root}: no such run folder")
    blocks: Blocks = {}
    for kind, path in find_analyses(root):
        where = str(path.relative_to(root)) if path != root else ""
        if kind is None:
            _merge(blocks, folder_view(path, where or root.name))
            continue
        try:
            view = result_view(LOADERS[kind](path), where)
            if (path / WARNINGS_FILE).is_file():  # what the run itself said replaces what its tables suggest
                view["warnings"] = [f"{where or root.name}: {text}" for text in read_warnings(path)]
            _merge(blocks, view)
        except (FreqprobeError, OSError, KeyError, ValueError) as err:  # an older or damaged folder
            _merge(blocks, {"warnings": [f"{where or root.name}: a {kind} folder that cannot be read ({err})"]})
    if not any(blocks.get(key) for key, _ in SECTIONS):
        raise FreqprobeError(f"{root}: holds no analysis, table or figure to report (run freqprobe demo, ablate, ...)")
    return RunReport(f"freqprobe report: {root.resolve().name}", blocks, root)


def result_report(result: Any) -> RunReport:
    """The same view of one result object (what Jupyter shows for it)."""
    from .views import result_view

    return RunReport(type(result).__name__, result_view(result))


def find_analyses(root: Path) -> Iterator[tuple[str | None, Path]]:
    """``(kind, folder)`` of every analysis under ``root``, in path order; kind ``None`` for
    a folder of tables or figures that is none of the known kinds. Known analyses' own
    subfolders (an ablation's ``runs/``) are not entered."""
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop(0)
        kind = folder_kind(folder)
        if kind is not None:
            yield kind, folder
            continue
        if any(folder.glob("*.csv")) or any(folder.glob("*.png")):
            yield None, folder
        if depth < MAX_DEPTH:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
            stack[0:0] = [(child, depth + 1) for child in children]


def _merge(into: Blocks, more: Blocks) -> None:
    for key, blocks in more.items():
        into.setdefault(key, []).extend(blocks)
