"""Attribution figures: band importances, Fourier sensitivity and heat map, pixel-map grids."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure

from .common import DIVERGING_CMAP, SEQUENTIAL_CMAP, labelled_colorbar, legend_outside, subplots
from .grids import display_range

METHOD_TITLES = {
    "ablation": "feature ablation",
    "shapley": "Shapley value sampling",
    "ig": "integrated gradients",
    "smoothgrad": "SmoothGrad",
    "gradcam": "Grad-CAM",
    "occlusion": "occlusion",
}
CLASS_COLOURS = {"real": "tab:blue", "fake": "tab:red"}
#: Notes under pixel-map figures on patterns that come from the method or model, not the data.
METHOD_NOTES = {
    "gradcam": "Grad-CAM is upsampled from the last convolution's coarse map; a blob centred on unaligned crops "
    "reflects the network's receptive field and padding, not where the images differ.",
}


def stride_note(stride: int) -> str:
    return (
        f"Dotted grid: multiples of 1/{stride} cycles/px, where the model's stride-{stride} first layer "
        "aliases; peaks there come from the model, not the data."
    )


def _mark_stride(ax, stride: int, axis: str = "both") -> None:
    """Dotted lines at multiples of ``1 / stride`` (the aliasing grid of a strided stem)."""
    steps = np.arange(-stride // 2, stride // 2 + 1) / stride
    for step in steps[np.abs(steps) <= 0.5]:
        if step == 0:
            continue
        if axis in ("both", "x"):
            colour = "white" if axis == "both" else "tab:green"
            ax.axvline(step, color=colour, linewidth=0.6, linestyle=":", gid="stride")
        if axis == "both":
            ax.axhline(step, color="white", linewidth=0.6, linestyle=":", gid="stride")


def band_labels(bands: pd.DataFrame) -> list[str]:
    """``0.09-0.18`` per ring, with the sector's angles when rings are cut into sectors."""
    labels = []
    for row in bands.itertuples():
        label = f"{row.f_lo:.2f}-{row.f_hi:.2f}"
        if not (row.angle_lo == 0 and row.angle_hi == 180):
            label += f" @{row.angle_lo:g}-{row.angle_hi:g}°"
        labels.append(label)
    return labels


def plot_band_importance(bands: pd.DataFrame, method: str, ax=None):
    """Bars: one method's band importances over all images with 95% intervals, rank 1 darker;
    dots: the means over real and over fake images."""
    if ax is None:
        _, ax = subplots(figsize=(3.2, 3))
    of_method = bands[bands["method"] == method]
    rows = of_method[of_method["images"] == "all"].sort_values("band")
    y = np.arange(len(rows))
    importance = rows["importance"].to_numpy()
    error = np.stack([importance - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - importance])
    error = np.clip(error, 0, None)  # an interval's end can differ from the mean in the last bit
    colours = ["0.35" if rank == 1 else "0.75" for rank in rows["rank"]]
    ax.barh(y, importance, xerr=error, color=colours, error_kw={"elinewidth": 0.8, "capsize": 2}, label="all images")
    for group, colour in CLASS_COLOURS.items():
        members = of_method[of_method["images"] == group].sort_values("band")
        if not members.empty:
            ax.plot(members["importance"], y, "o", color=colour, markersize=3, label=f"{group} images")
    legend_outside(ax, where="below", fontsize=6, ncol=3)
    ax.set_yticks(y, band_labels(rows), fontsize=6)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("importance (score units)", fontsize=7)
    ax.set_ylabel("band (cycles/pixel)", fontsize=7)
    ax.set_title(METHOD_TITLES.get(method, method), fontsize=8)
    ax.tick_params(labelsize=6)
    return ax.figure, ax


def plot_fourier_plane(plane: np.ndarray, title: str, ax, log: bool = True, label: str = ""):
    """A full-plane map in FFT order, shifted so DC is in the centre; fx right, fy up."""
    height, width = plane.shape
    shifted = np.fft.fftshift(plane)
    values = np.log10(np.maximum(shifted, 1e-12)) if log else shifted
    fy, fx = np.fft.fftshift(np.fft.fftfreq(height)), np.fft.fftshift(np.fft.fftfreq(width))
    image = ax.imshow(
        values, origin="lower", cmap=SEQUENTIAL_CMAP, extent=(fx[0], fx[-1], fy[0], fy[-1]), interpolation="nearest"
    )
    ax.set_xlabel("fx (cycles/pixel)", fontsize=7)
    ax.set_ylabel("fy (cycles/pixel)", fontsize=7)
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)
    labelled_colorbar(ax.figure, image, ax, label, fraction=0.046, pad=0.04, shrink=1.0)
    return ax.figure, ax


def attribution_figure(
    bands: pd.DataFrame, sensitivity: pd.DataFrame, maps: dict[str, np.ndarray], settings: dict[str, Any]
) -> Figure:
    """Row 1: band importances per method. Row 2: Fourier sensitivity map and radial profile, heat map."""
    methods = list(settings["methods"])
    n_cols = max(len(methods), 3 if "heatmap" in maps else 2)
    fig, axes = subplots(2, n_cols, figsize=(3.4 * n_cols, 6.4), squeeze=False)
    for ax, method in zip(axes[0], methods):
        plot_band_importance(bands, method, ax=ax)
    mean_map = maps["fourier_sensitivity"].mean(axis=0)
    plot_fourier_plane(
        mean_map, "Fourier sensitivity |d score / d X|", axes[1][0], label="log10 of mean |d score / d X|"
    )
    stride = int(settings.get("stem_stride", 1))
    if stride > 1:
        _mark_stride(axes[1][0], stride)
    ax = axes[1][1]
    for name, group in sensitivity.groupby("class", sort=False):
        ax.semilogy(group["f"], group["sensitivity"], color=CLASS_COLOURS.get(name), label=f"{name} images")
    for edge in settings["edges"]:
        ax.axvline(edge, color="gray", linewidth=0.4, linestyle=":")
    ax.set_xlabel("radius (cycles/pixel)", fontsize=7)
    ax.set_ylabel("mean |d score / d X|", fontsize=7)
    ax.set_title("radial profile (band edges dotted)", fontsize=8)
    ax.tick_params(which="both", labelsize=6)
    legend_outside(ax, where="below", fontsize=6)
    if "heatmap" in maps:
        real, fake = settings["clean_error"]
        title = (
            f"error rate + basis image of norm {settings['heatmap_eps']:g}\n"
            f"(class mean; unperturbed: real {real:.2f}, fake {fake:.2f})"
        )
        plot_fourier_plane(maps["heatmap"].mean(axis=0), title, axes[1][2], log=False, label="error rate")
    for ax in [*axes[0][len(methods):], *axes[1][3 if "heatmap" in maps else 2:]]:
        ax.set_visible(False)
    real, fake = settings["n_images"]
    baselines = {"swap": ", bands swapped with the other class", "zero": ", bands removed"}
    baseline = baselines.get(settings.get("baseline"), "")
    fig.suptitle(
        f"classifier on {settings['variant']}, target {settings['target']}{baseline}: {real} real + {fake} fake images "
        f"({settings['images'].split(' (')[0]})",
        fontsize=8,
    )
    if stride > 1:
        fig.text(0.5, 0.0, stride_note(stride), ha="center", va="top", fontsize=7)
    fig.tight_layout()
    return fig


def overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """An ``(H, W, 3)`` image blended with a map scaled to [0, 1] in the sequential colour map."""
    scaled = (heat - heat.min()) / max(float(heat.max() - heat.min()), 1e-12)
    return np.clip(0.5 * image + 0.5 * colormaps[SEQUENTIAL_CMAP](scaled)[..., :3], 0, 1)


def pixel_grid_figure(images: np.ndarray, maps: np.ndarray, labels: np.ndarray, method: str) -> Figure:
    """Columns: shown images; rows: the image, its map (one shared colour scale, with its
    colour bar), the overlay."""
    n = len(images)
    fig, axes = subplots(3, n, figsize=(1.3 * n + 1.0, 4.4), squeeze=False, layout="constrained")
    limit = float(np.abs(maps).max()) or 1.0
    signed = float(maps.min()) < 0
    for c in range(n):
        image = display_range(torch.from_numpy(images[c]).float() / 255)
        heat = maps[c]
        axes[0][c].imshow(image, interpolation="nearest")
        axes[0][c].set_title("real" if labels[c] == 0 else "fake", fontsize=7)
        if signed:
            shown = axes[1][c].imshow(heat, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        else:
            shown = axes[1][c].imshow(heat, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=limit, interpolation="nearest")
        axes[2][c].imshow(overlay(image, np.abs(heat) if signed else heat), interpolation="nearest")
        for ax in axes[:, c]:
            ax.set_xticks([])
            ax.set_yticks([])
    labelled_colorbar(fig, shown, list(axes[1]), "attribution (score units)")
    for ax, name in zip(axes[:, 0], ["image", METHOD_TITLES.get(method, method), "overlay (|map|)"]):
        ax.set_ylabel(name, fontsize=7)
    if method in METHOD_NOTES:
        fig.supxlabel(METHOD_NOTES[method], fontsize=6, wrap=True)
    return fig


def pixel_means_figure(means: dict[str, np.ndarray]) -> Figure:
    """Rows: mean map over real images, over fake images, fake minus real; columns: methods.

    Real's and fake's means share one symmetric colour scale per method (so maps of opposite
    sign look opposite), the difference has its own; every scale has a labelled colour bar."""
    methods = list(means)
    fig, axes = subplots(3, len(methods), figsize=(2.4 * len(methods) + 0.4, 5.8), squeeze=False, layout="constrained")
    for c, method in enumerate(methods):
        real, fake = means[method]
        shared = float(max(np.abs(real).max(), np.abs(fake).max())) or 1.0
        difference = fake - real
        panels = [(real, "mean, real", shared), (fake, "mean, fake", shared),
                  (difference, "fake - real", float(np.abs(difference).max()) or 1.0)]  # fmt: skip
        for r, (plane, name, limit) in enumerate(panels):
            ax = axes[r][c]
            image = ax.imshow(plane, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(METHOD_TITLES.get(method, method), fontsize=8)
            if c == 0:
                ax.set_ylabel(name, fontsize=7)
            if r >= 1:  # one bar for real and fake (shared scale), one for the difference
                axes_of_bar = [axes[0][c], ax] if r == 1 else ax
                labelled_colorbar(fig, image, axes_of_bar, "mean attribution (score units)" if r == 1 else "fake - real (score units)", shrink=0.9)
    return fig
