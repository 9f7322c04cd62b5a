"""What each analysis contributes to a report, sorted by the question it answers.

Every view takes a result object (read from a run folder or fresh from Python) and gives
HTML blocks per question: ``difference`` (is there one?), ``frequency`` (where is it?),
``classifier`` (what does the classifier use?), ``probe`` (how does a classifier hold up
under distortions?), ``other`` and ``warnings``. Figures are drawn from the result's
tables, as the run folder's are.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..ablation import AblationResult
from ..attribution import AttributionReport
from ..display import TableDisplay
from ..figures.ablation import NULL_NAMES, main_task, plot_cutoff_sweep, plot_pairwise
from ..figures.common import png_bytes
from ..figures.probe import plot_consistency, plot_shape_bias
from ..probe.report import ProbeReport
from ..spectra import SpectrumReport
from ..warnlog import WARNINGS_FILE, read_warnings
from .html import note_html, png_html, table_html
from .page import Blocks
SUMMARY_COLUMNS = ["task", "variant", "mode", "recipe", "n_seeds", "accuracy", "ci_low", "ci_high",
                   "p_value_max", "linear_accuracy", "chance"]  # fmt: skip


def _figure(fig, caption: str) -> str:
    return png_html(png_bytes(fig), caption)


def _heading(what: str, where: str) -> str:
    return f"<h3>{html.escape(what)}{f' <small>in {html.escape(where)}/</small>' if where else ''}</h3>"


def ablation_view(result: AblationResult, where: str = "") -> Blocks:
    """The study's headline accuracies, its figures and every variant's summary."""
    blocks: Blocks = defaultdict(list)
    summary = result.summary
    task = main_task(summary)
    shown = [c for c in SUMMARY_COLUMNS if c in summary.columns]
    headline = summary[(summary["variant"] == "original") | summary["task"].isin(NULL_NAMES)]
    blocks["difference"] += [
        _heading("classifier accuracy", where),
        note_html(f"{result.describe()}. A classifier that beats chance on the original images tells the sets "
                  "apart; the real-vs-real control must sit at chance."),  # fmt: skip
        table_html(headline[shown], "original images and the real-vs-real control"),
        _figure(result.plot(), f"{task}: accuracy per variant"),
    ]
    pairwise = plot_pairwise(summary, result.table)
    if pairwise is not None:
        blocks["difference"].append(_figure(pairwise, "pairwise tasks: each pair of sets on its own"))
    if not result.per_class.empty:
        blocks["difference"].append(table_html(result.per_class, "K-way: accuracy per class (recall)"))
    blocks["frequency"].append(_heading("accuracy per filtered variant", where))
    sweep = plot_cutoff_sweep(summary)
    if sweep is not None:
        blocks["frequency"].append(_figure(sweep, "accuracy against cutoff"))
    blocks["frequency"].append(table_html(summary[shown], "every variant of the study"))
    blocks["warnings"] += [f"{where or 'ablate'}: {text}" for text in ablation_warnings(result)]
    return blocks


def ablation_warnings(result: AblationResult) -> list[str]:
    summary = result.summary
    found = []
    if not result.null_ok:
        null = summary[summary["task"].isin(NULL_NAMES)].iloc[0]
        found.append(
            f"the real-vs-real control is off chance (accuracy {null['accuracy']:.3f}, chance {null['chance']:.2g}): "
            "train and test share images (leakage) or a bug; no accuracy here is trustworthy until it sits at chance"
        )
    below = summary[(summary["ci_high"] < summary["chance"]) & ~summary["task"].isin(NULL_NAMES)]
    for row in below.itertuples():
        found.append(
            f"{row.task} {row.variant}: accuracy {row.accuracy:.3f} lies below chance {row.chance:.2g}; test images "
            "with exact copies among the other class's training images (leakage) do this"
        )
    for row in result.missed_by_network.itertuples():
        found.append(
            f"{row.task} {row.variant}: the network ({row.accuracy:.3f}) misses a difference the linear probe finds "
            f"({row.linear_accuracy:.3f}); see docs/sensitivity.md"
        )
    return found


def spectrum_view(report: SpectrumReport, where: str = "") -> Blocks:
    """Which sets' spectra differ significantly from the real one, the figure and the peaks."""
    blocks: Blocks = defaultdict(list)
    rows = report.comparison[(report.comparison["spectrum"] == "image") & (report.comparison["channel"] == "Y")]
    differ = []
    for name, group in rows.groupby("set", sort=False):
        ratio_db = 10 * np.log10(np.maximum(group["ratio"].to_numpy(dtype=float), 1e-12))
        largest = int(np.argmax(np.abs(ratio_db)))
        differ.append({
            "set": name, "significant_bins": int(group["significant"].astype(bool).sum()), "bins": len(group),
            "largest_ratio_db": float(ratio_db[largest]), "at_f": float(group["f"].iloc[largest]),
            "peaks": int((report.peaks["set"] == name).sum()),
        })  # fmt: skip
    blocks["difference"] += [_heading("power spectra", where), note_html(report.describe())]
    if differ:
        blocks["difference"].append(table_html(pd.DataFrame(differ), "luminance power against the real set, per radial bin"))
    blocks["frequency"] += [
        _heading("spectra and artifact peaks", where),
        _figure(report.plot(), "luminance spectra, ratios to the real set, residual peaks, radial profiles"),
        table_html(report.peaks, "residual peaks (robust z), strongest first per set"),
    ]
    return blocks


def attribution_view(report: AttributionReport, where: str = "") -> Blocks:
    """Band importances, the Fourier sensitivity and the pixel maps of one classifier."""
    blocks: Blocks = defaultdict(list)
    settings = report.settings
    blocks["classifier"] += [
        _heading("attribution", where),
        note_html(f"{report.describe()}. Model: {settings.get('model')}, variant {settings.get('variant')}; "
                  f"images: {settings.get('images')}."),  # fmt: skip
        _figure(report.plot(), "band importances, Fourier sensitivity"),
        table_html(report.ranking, "band ranks per method (1 = most important)"),
    ]
    for method in report.pixel_methods:
        blocks["classifier"].append(_figure(report.plot_pixels(method), f"pixel maps: {method}"))
    if report.pixel_methods:
        blocks["classifier"].append(_figure(report.plot_pixel_means(), "mean pixel maps per class"))
    if "including the study's training images" in str(settings.get("images", "")):
        blocks["warnings"].append(
            f"{where or 'attribute'}: attributed on images the model was trained on ({settings['images']})"
        )
    return blocks


def probe_view(report: ProbeReport, where: str = "") -> Blocks:
    """Robustness curves, shape bias and error consistency of the probed observers."""
    blocks: Blocks = defaultdict(list)
    blocks["probe"] += [
        _heading("probe", where),
        note_html(report.describe()),
        _figure(report.plot(), "accuracy under distortions (dashed: undistorted)"),
        table_html(report.curves, "accuracy per condition (95% Wilson intervals)"),
    ]
    if not report.shape_bias.empty:
        blocks["probe"].append(_figure(plot_shape_bias(report.shape_bias), "shape bias"))
    if not report.consistency.empty:
        blocks["probe"].append(_figure(plot_consistency(report.consistency), "error consistency"))
    chance = report.settings.get("chance")
    original = report.curves[report.curves["distortion"] == "original"]
    if chance is not None:
        for row in original[original["ci_low"] <= chance].itertuples():
            blocks["warnings"].append(
                f"{where or 'probe'}: {row.model} is at chance ({row.accuracy:.3f}) on the undistorted images: its "
                "curves say nothing about robustness (wrong classes, label map or preprocessing?)"
            )
    return blocks


def folder_view(folder: Path, where: str = "") -> Blocks:
    """Any other analysis: each of its CSV tables and PNG figures, as they are."""
    blocks: Blocks = defaultdict(list)
    blocks["other"].append(_heading(f"{where or folder.name}/", ""))
    blocks["warnings"] += [f"{where or folder.name}: {text}" for text in read_warnings(folder)]
    for path in sorted(p for p in folder.glob("*.csv") if p.name != WARNINGS_FILE):
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            blocks["warnings"].append(f"{where}/{path.name}: not a readable table ({err})")
            continue
        blocks["other"].append(table_html(table, path.name))
    for path in sorted(folder.glob("*.png")):
        blocks["other"].append(png_html(path.read_bytes(), path.name))
    return blocks


def generic_view(result: TableDisplay, where: str = "") -> Blocks:
    """Any other result (compare, drift, limits, benchmark, ...): its line, its table and its figure."""
    blocks: Blocks = defaultdict(list)
    blocks["other"] += [
        _heading(type(result).__name__, where),
        note_html(result.describe()),
        table_html(result._shown(), result.shown_table),
        _figure(result.plot(), type(result).__name__),
    ]
    return blocks


def result_view(result: TableDisplay, where: str = "") -> Blocks:
    """The view of any result object: the four analyses' own, a generic one for the rest."""
    views = {AblationResult: ablation_view, SpectrumReport: spectrum_view, AttributionReport: attribution_view,
             ProbeReport: probe_view}  # fmt: skip
    return views.get(type(result), generic_view)(result, where)
