"""The spectra figure of ``fp.spectrum``: 2-D spectra, ratio maps, residual peaks, radial profiles.

Drawn only from what a run folder saves (``SpectrumReport.load`` gives it back), so it can
be redrawn without recomputing. Layout, for a real set and K generated sets:

- row 1: the luminance's mean power spectrum of every set (**log of mean**, dB, one shared
  colour scale), then each generated set's ratio to the real one (ratio of mean powers, dB);
- row 2: the luminance's mean residual spectrum of every set (**mean of log**, dB, shared
  scale), with its peaks circled and numbered by score, then each generated set's
  difference in mean residual dB;
- row 3: radial profiles of all sets on one axis (log of mean power, band: +- one standard
  error over images) for the images and for the residuals, and each generated set's power
  ratio to the real set (dB, so one spike does not flatten the rest), filled where significant.

With many generated sets the maps wrap at ``MAX_COLUMNS`` panels a row (sets, then ratios),
so the figure keeps a page's width and readable text.

Frequencies are in cycles/pixel, fx to the right and fy upwards, DC in the centre; on even
sizes the Nyquist row and column are drawn on both sides (+-0.5). Faded on the ratio and
difference maps: frequencies where the per-image dB does not differ significantly (Welch t,
Benjamini-Hochberg at the report's FDR).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpecBase
from matplotlib.image import AxesImage

from .common import DIVERGING_CMAP, SEQUENTIAL_CMAP, legend_outside

SPECTRUM_CMAP = SEQUENTIAL_CMAP
RATIO_CMAP = DIVERGING_CMAP
#: Map panels per row: more sets wrap onto further rows.
MAX_COLUMNS = 4
SET_COLORS = ("black", "tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown")
PEAK_COLOR = "#00e5ff"
LABELLED_PEAKS = 5
FADE = 0.75  # opacity of the grey veil over non-significant frequencies
VEIL_GREY = 0.8
PANEL_INCHES = 2.3


def centered(grid: np.ndarray) -> np.ndarray:
    """An ``(..., H, W)`` map in FFT order, DC moved to the centre; on even sides the Nyquist
    row/column is repeated at the far edge, so the picture is symmetric (``-0.5 ... 0.5``)."""
    shifted = np.fft.fftshift(grid, axes=(-2, -1))
    if grid.shape[-2] % 2 == 0:
        shifted = np.concatenate([shifted, shifted[..., :1, :]], axis=-2)
    if grid.shape[-1] % 2 == 0:
        shifted = np.concatenate([shifted, shifted[..., :1]], axis=-1)
    return shifted


def _extent(height: int, width: int) -> tuple[float, float, float, float]:
    """imshow extent of a ``centered`` map: pixel edges, half a bin beyond the outer frequencies."""

    def edges(n: int) -> tuple[float, float]:
        outer = 0.5 if n % 2 == 0 else (n // 2) / n
        return -outer - 0.5 / n, outer + 0.5 / n

    return (*edges(width), *edges(height))


def _decibels(power: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.maximum(power, 1e-12))


def _without_dc(grid: np.ndarray) -> np.ndarray:
    values = grid.astype(np.float64).copy()
    values[..., 0, 0] = np.nan
    return values


def _colorbar(fig: Figure, image: AxesImage, axes: list[Axes], label: str) -> None:
    bar = fig.colorbar(image, ax=axes, shrink=0.85, pad=0.01)
    bar.set_label(label, fontsize=7)
    bar.ax.tick_params(labelsize=7, length=2)


def _style_map_axis(ax: Axes, title: str, left: bool, bottom: bool) -> None:
    ax.set_title(title, fontsize=8)
    ax.set_xticks([-0.5, 0, 0.5])
    ax.set_yticks([-0.5, 0, 0.5])
    ax.tick_params(labelsize=7, length=2)
    if left:
        ax.set_ylabel("fy (cycles/px)", fontsize=7)
    else:
        ax.set_yticklabels([])
    if bottom:
        ax.set_xlabel("fx (cycles/px)", fontsize=7)
    else:
        ax.set_xticklabels([])


def _draw_map(
    ax: Axes, grid: np.ndarray, cmap: str, vmin: float, vmax: float, faded: np.ndarray | None = None
) -> AxesImage:
    height, width = grid.shape
    extent = _extent(height, width)
    image = ax.imshow(
        centered(grid), cmap=cmap, vmin=vmin, vmax=vmax, origin="lower", extent=extent, interpolation="nearest"
    )
    if faded is not None:
        veil = np.zeros((*centered(faded).shape, 4))
        veil[..., :3] = VEIL_GREY
        veil[..., 3] = np.where(centered(faded), FADE, 0.0)
        ax.imshow(veil, origin="lower", extent=extent, interpolation="nearest")
    return image


def _mark_peaks(ax: Axes, peaks: pd.DataFrame) -> None:
    """Circle each peak and its conjugate; number the strongest and list them under the map."""
    lines = []
    for rank, (fy, fx, score) in enumerate(zip(peaks["fy"], peaks["fx"], peaks["score"]), start=1):
        for sign in (1, -1):
            ax.scatter(
                [sign * fx], [sign * fy], s=110, facecolors="none", edgecolors=PEAK_COLOR, linewidths=1.0, clip_on=False
            )
        if rank <= LABELLED_PEAKS:
            right, up = fx > 0.3, fy > 0.3
            ax.annotate(
                str(rank), (fx, fy), xytext=(-7 if right else 7, -7 if up else 7), textcoords="offset points",
                color=PEAK_COLOR, fontsize=7, fontweight="bold",
                ha="right" if right else "left", va="top" if up else "bottom",
            )  # fmt: skip
            lines.append(f"{rank}: ({fy:g}, {fx:g})  z={score:.0f}")
    if lines:
        ax.set_xlabel("\n".join(["fx (cycles/px)", "peaks (fy, fx):", *lines]), fontsize=6)


def _symmetric_limit(values: np.ndarray, floor: float = 1.0) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return max(float(np.percentile(finite, 99.5)) if finite.size else floor, floor)


def _profile_axis(ax: Axes, radial: pd.DataFrame, names: Sequence[str], spectrum: str, title: str) -> None:
    rows = radial[(radial["spectrum"] == spectrum) & (radial["channel"] == "Y")]
    for name, color in zip(names, SET_COLORS):
        profile = rows[rows["set"] == name]
        f, power, se = (profile[c].to_numpy(dtype=float) for c in ("f", "power", "se"))
        ax.plot(f, _decibels(power), color=color, linewidth=1.0, label=name)
        ax.fill_between(f, _decibels(power - se), _decibels(power + se), color=color, alpha=0.25, linewidth=0)
    _beyond_nyquist(ax)
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("radial frequency f (cycles/px)", fontsize=7)
    ax.set_ylabel("log of mean power (dB)", fontsize=7)
    ax.tick_params(labelsize=7, length=2)
    legend_outside(ax, where="below")


def _beyond_nyquist(ax: Axes) -> None:
    ax.axvspan(0.5, 0.75, color="0.92", linewidth=0, zorder=0)
    ax.set_xlim(0, 0.72)
    ax.grid(alpha=0.3, linewidth=0.5)


def _sde_axis(ax: Axes, comparison: pd.DataFrame, names: Sequence[str]) -> None:
    rows = comparison[(comparison["spectrum"] == "image") & (comparison["channel"] == "Y")]
    for name, color in zip(names[1:], SET_COLORS[1:]):
        errors = rows[rows["set"] == name]
        f, ratio_db = errors["f"].to_numpy(dtype=float), _decibels(errors["ratio"].to_numpy(dtype=float))
        significant = errors["significant"].to_numpy(dtype=bool)
        ax.plot(f, ratio_db, color=color, linewidth=1.0, label=f"{name} / {names[0]}")
        ax.scatter(f[significant], ratio_db[significant], s=9, color=color, zorder=3)
        ax.scatter(f[~significant], ratio_db[~significant], s=9, facecolors="white", edgecolors=color, zorder=3)
    ax.axhline(0, color="0.3", linewidth=0.6)
    _beyond_nyquist(ax)
    ax.set_title("power ratio to the real set (image)", fontsize=8)
    ax.set_xlabel("radial frequency f (cycles/px)", fontsize=7)
    ax.set_ylabel("ratio of mean power (dB; filled: significant)", fontsize=7)
    ax.tick_params(labelsize=7, length=2)
    legend_outside(ax, where="below")


def _map_rows(fig: Figure, slot: GridSpecBase, n_panels: int, columns: int) -> list[Axes]:
    """``n_panels`` map axes in rows of ``columns`` inside ``slot``; no empty panel is drawn."""
    rows = math.ceil(n_panels / columns)
    grid = slot.subgridspec(rows, columns)
    return [fig.add_subplot(grid[k // columns, k % columns]) for k in range(n_panels)]


def spectra_figure(
    radial: pd.DataFrame,
    peaks: pd.DataFrame,
    comparison: pd.DataFrame,
    maps: dict[str, np.ndarray],
    settings: dict[str, Any],
) -> Figure:
    """Draw the spectra figure from a spectrum run folder's tables, maps and settings."""
    names = [str(name) for name in maps["sets"]]
    luminance = list(maps["channels"]).index("Y")
    n_sets, n_fakes = len(names), len(names) - 1
    together = n_sets + n_fakes <= MAX_COLUMNS  # sets and ratios share a row
    columns = max(n_sets + n_fakes, 3) if together else MAX_COLUMNS
    map_rows = 1 if together else math.ceil(n_sets / columns) + math.ceil(n_fakes / columns)
    fig = Figure(
        figsize=(PANEL_INCHES * columns + 1.0, PANEL_INCHES * (2 * map_rows + 1) + 0.9), layout="constrained"
    )
    heights = [map_rows, map_rows, 1.25]
    rows = fig.add_gridspec(3, 1, height_ratios=heights)
    bottom = rows[2].subgridspec(1, 3 if n_fakes else 2)  # one set alone: nothing to compare

    spectra_db = _decibels(_without_dc(maps["image_power"][:, luminance]))
    residual_db = _without_dc(maps["residual_mean_db"])
    for row, grids in enumerate([spectra_db, residual_db]):
        kind = "image" if row == 0 else "residual"
        if together:
            band = rows[row].subgridspec(1, columns)
            axes = [fig.add_subplot(band[0, i]) for i in range(n_sets)]
            ratio_axes = [fig.add_subplot(band[0, n_sets + k]) for k in range(n_fakes)]
        else:
            blocks = rows[row].subgridspec(2, 1, height_ratios=[math.ceil(n_sets / columns), math.ceil(n_fakes / columns)])
            axes = _map_rows(fig, blocks[0], n_sets, columns)
            ratio_axes = _map_rows(fig, blocks[1], n_fakes, columns)
        vmin, vmax = np.nanpercentile(grids, 0.5), np.nanmax(grids)
        for i, (ax, name) in enumerate(zip(axes, names)):
            image = _draw_map(ax, grids[i], SPECTRUM_CMAP, vmin, vmax)
            _style_map_axis(ax, f"{name}: {kind} spectrum", left=i % columns == 0, bottom=True)
            if row == 1:
                _mark_peaks(ax, peaks[peaks["set"] == name])
        _colorbar(fig, image, axes, "log of mean power (dB)" if row == 0 else "mean of log power (dB)")

        if n_fakes:
            if row == 0:
                contrast = [_decibels(maps["image_power"][k, luminance]) - spectra_db[0] for k in range(1, n_sets)]
                faded = ~maps["image_significant"][:, luminance]
                what, label = "ratio", "ratio of mean power (dB)"
            else:
                contrast = [residual_db[k] - residual_db[0] for k in range(1, n_sets)]
                faded = ~maps["residual_significant"]
                what, label = "residual difference", "difference of mean log power (dB)"
            limit = _symmetric_limit(np.array(contrast))
            for k, ax in enumerate(ratio_axes):
                image = _draw_map(ax, np.nan_to_num(contrast[k]), RATIO_CMAP, -limit, limit, faded[k])
                _style_map_axis(ax, f"{names[k + 1]} vs {names[0]}: {what}", left=not together and k % columns == 0, bottom=True)
            _colorbar(fig, image, ratio_axes, label)

    _profile_axis(fig.add_subplot(bottom[0, 0]), radial, names, "image", "radial profile (image)")
    _profile_axis(fig.add_subplot(bottom[0, 1]), radial, names, "residual", "radial profile (residual)")
    if n_fakes:
        _sde_axis(fig.add_subplot(bottom[0, 2]), comparison, names)
    fig.suptitle(
        f"Luminance spectra, {settings['height']}x{settings['width']} px, "
        + ", ".join(f"{name} n={settings['sets'][name]['n']}" for name in names)
        + f"; window {settings['window']}, denoiser {settings['denoiser']}",
        fontsize=9,
    )
    fig.text(
        0.5, -0.01,
        f"Faded: not significant (Welch t on per-image dB, Benjamini-Hochberg FDR {settings['fdr']:g}). "
        f"Circles: residual peaks (robust z >= {settings['min_score']:g}), numbered by score.\n"
        "Bands: +-1 standard error over images. Grey: beyond 0.5 cycles/px (corners only).",
        ha="center", va="top", fontsize=7,
    )  # fmt: skip
    return fig
