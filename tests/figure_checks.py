"""Checks of what a figure shows (not only that a file exists): legends and text boxes
off the data, labelled colour bars on every scalar image, one colour map family, chance
lines. Shared by the figure tests."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from freqprobe.figures.common import CHANCE_GID, DIVERGING_CMAP, SEQUENTIAL_CMAP


def draw(fig: Figure):
    """Lay the figure out as saving would and return its renderer."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def data_axes(fig: Figure) -> list:
    """Visible axes that are neither colour bars nor secondary axes."""
    bars = {im.colorbar.ax for ax in fig.axes for im in [*ax.images, *ax.collections] if getattr(im, "colorbar", None)}
    return [ax for ax in fig.axes if ax.get_visible() and ax not in bars and ax.get_label() != "<colorbar>"]


def assert_legends_outside_the_data(fig: Figure) -> None:
    renderer = draw(fig)
    for ax in data_axes(fig):
        legend = ax.get_legend()
        if legend is not None:
            assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer)), ax.get_title()
        for text in ax.texts:
            if text.get_bbox_patch() is not None:  # a boxed note over the panel hides data
                assert not text.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer)), text.get_text()


def scalar_images(fig: Figure) -> list:
    """Images drawn through a colour map (not RGB pictures or RGBA veils)."""
    return [im for ax in data_axes(fig) for im in ax.images if np.ndim(im.get_array()) == 2]


def assert_colour_bars_labelled(fig: Figure) -> None:
    """Every scalar image has a colour bar with a quantity in its label (itself or one of
    the same colour map and limits), and the colour maps are the figure family's two."""
    images = scalar_images(fig)
    assert images, "no scalar image"
    barred = {(im.cmap.name, im.get_clim()): im.colorbar for im in images if im.colorbar is not None}
    for im in images:
        assert im.cmap.name in (SEQUENTIAL_CMAP, DIVERGING_CMAP), im.cmap.name
        bar = barred.get((im.cmap.name, im.get_clim()))
        assert bar is not None, f"an image in {im.axes.get_title()!r} has no colour bar"
        label = bar.ax.get_ylabel() or bar.ax.get_xlabel()
        assert len(label.split()) >= 2, f"colour bar label {label!r} does not say what its numbers are"


def chance_lines(fig: Figure) -> dict[str, list[float]]:
    """Task -> the y of every chance line drawn for it (artists with gid ``chance:<task>``)."""
    found = defaultdict(list)
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections]:
            gid = artist.get_gid() or ""
            if gid.startswith(CHANCE_GID + ":"):
                if hasattr(artist, "get_segments"):
                    ys = {round(float(y), 9) for segment in artist.get_segments() for y in segment[:, 1]}
                else:
                    ys = {round(float(y), 9) for y in artist.get_ydata()}
                assert len(ys) == 1, f"chance line of {gid} is not flat"
                found[gid.split(":", 1)[1]].append(ys.pop())
    return dict(found)
