"""What every figure shows: scales, references, legends and colour bars (figure_checks.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import freqprobe as fp
from figure_checks import (
    assert_colour_bars_labelled,
    assert_legends_outside_the_data,
    assert_page_width,
    chance_lines,
    data_axes,
    draw,
)
from freqprobe.ablation.tasks import NULL_CONTROL
from freqprobe.ablation.result import RESULT_COLUMNS, AblationResult
from freqprobe.figures.ablation import plot_accuracy_bars, plot_cutoff_sweep, plot_pairwise
from freqprobe.figures.attribution import pixel_grid_figure, pixel_means_figure
from freqprobe.figures.probe import level_positions, plot_consistency, plot_curves, plot_shape_bias


# -- ablation -----------------------------------------------------------------------------
def study_table(sets: tuple[str, ...], variants: list[str], seeds: int = 2) -> pd.DataFrame:
    """A results table as ``fp.ablate`` writes it, with made-up accuracies (no training)."""
    k = len(sets)
    tasks = [("binary" if k == 2 else "kway", 1 / k)]
    if k > 2:
        tasks += [(f"pair:{a}|{b}", 0.5) for i, a in enumerate(sets) for b in sets[i + 1 :]]
    rows = []
    for task, chance in tasks:
        for v, variant in enumerate(variants):
            for seed in range(seeds):
                accuracy = 0.95 - 0.1 * (v % 5) + 0.01 * seed  # within [0, 1] for any number of variants
                rows.append(dict(task=task, variant=variant, seed=seed, chance=chance, accuracy=accuracy))
    rows += [dict(task="real-vs-real", variant="real-vs-real", seed=s, chance=0.5, accuracy=0.5 + 0.01 * s) for s in range(seeds)]
    table = pd.DataFrame(rows)
    filled = {"mode": "retrain", "recipe": "whitened", "model": "fast", "n_train": 400, "n_test": 100,
              "ci_low": table["accuracy"] - 0.05, "ci_high": table["accuracy"] + 0.05, "p_value": 0.01,
              "auc": 0.9, "linear_accuracy": table["accuracy"] - 0.02, "linear_ci_low": 0.5, "linear_ci_high": 0.9,
              "linear_auc": 0.9, "run": [f"r{i}" for i in range(len(table))]}  # fmt: skip
    table = table.assign(**filled, train_variant=table["variant"])
    return table[RESULT_COLUMNS]


def test_accuracy_bars_start_at_zero_with_one_chance_line_per_task_at_its_chance() -> None:
    result = AblationResult(study_table(("real", "a", "b"), ["original", "lowpass:0.1"]), pd.DataFrame())
    fig = plot_accuracy_bars(result.summary, result.table)
    ax = data_axes(fig)[0]
    assert ax.get_ylim()[0] == 0.0 and ax.get_ylabel() == "test accuracy"
    lines = chance_lines(fig)  # the K-way task at 1/3, the real-vs-real control at its own 1/2
    assert lines == {"kway": [pytest.approx(1 / 3)], "real-vs-real": [0.5]}
    assert_legends_outside_the_data(fig)


def two_recipes(table: pd.DataFrame) -> pd.DataFrame:
    other = table.assign(recipe="raw", accuracy=table["accuracy"] - 0.03, run=table["run"] + "-raw")
    return pd.concat([table, other], ignore_index=True)


def test_many_variants_wrap_onto_rows_a_page_wide_with_bars_as_wide_as_with_few() -> None:
    variants = ["original", *(f"lowpass:{c / 100:g}" for c in range(5, 75, 5))]  # 15 variants x 2 recipes
    result = AblationResult(two_recipes(study_table(("real", "fake"), variants)), pd.DataFrame())
    fig = plot_accuracy_bars(result.summary, result.table)
    assert_page_width(fig)
    panels = data_axes(fig)
    assert len(panels) == 3  # 16 variants (with the control) x 2 recipes, 14 bars a row at most: rows of 6
    shown = [t.get_text() for ax in panels for t in ax.get_xticklabels()]
    assert shown == [*variants, NULL_CONTROL]  # every variant once, in study order
    assert len({ax.get_xlim() for ax in panels}) == 1  # one slot width in every row
    renderer = draw(fig)
    per_variant = panels[0].get_window_extent(renderer).width / fig.dpi / np.ptp(panels[0].get_xlim())
    assert per_variant >= 0.55 * 2 * 0.9  # each variant keeps its two bars' room (0.55 in a bar), not squeezed
    assert all(ax.get_ylim() == (0.0, 1.02) for ax in panels)
    assert sum(ax.get_legend() is not None for ax in panels) == 1
    lines = chance_lines(fig)  # one per task in each row where that task has bars
    assert lines["binary"] == [0.5, 0.5, 0.5] and lines[NULL_CONTROL] == [0.5]
    assert_legends_outside_the_data(fig)
    few = AblationResult(study_table(("real", "fake"), ["original", "lowpass:0.1"]), pd.DataFrame())
    assert len(data_axes(plot_accuracy_bars(few.summary, few.table))) == 1  # a short study keeps one row


def test_pairwise_panels_of_many_variants_stay_a_page_wide() -> None:
    variants = ["original", *(f"highpass:{c / 100:g}" for c in range(5, 75, 5))]
    result = AblationResult(two_recipes(study_table(("real", "a", "b", "c"), variants, seeds=1)), pd.DataFrame())
    fig = plot_pairwise(result.summary, result.table)
    assert len(data_axes(fig)) == 6
    assert_page_width(fig)


def test_pairwise_tasks_are_plotted_one_panel_each_at_chance_one_half() -> None:
    result = AblationResult(study_table(("real", "a", "b"), ["original", "highpass:0.1"]), pd.DataFrame())
    fig = plot_pairwise(result.summary, result.table)
    titles = [ax.get_title() for ax in data_axes(fig)]
    assert [t.split(":", 2)[1] for t in titles] == ["real|a", "real|b", "a|b"]
    assert chance_lines(fig) == {f"pair:{p}": [0.5] for p in ("real|a", "real|b", "a|b")}
    assert_legends_outside_the_data(fig)
    binary = AblationResult(study_table(("real", "fake"), ["original"]), pd.DataFrame())
    assert plot_pairwise(binary.summary, binary.table) is None
    four = AblationResult(study_table(("real", "a", "b", "c"), ["original"]), pd.DataFrame())
    fig = plot_pairwise(four.summary, four.table)
    assert len(data_axes(fig)) == 6 and fig.get_size_inches()[1] <= 9.5  # 6 pairs in 2 columns, no empty panel


def test_the_cutoff_sweep_keeps_a_lone_cutoff_and_shows_the_unfiltered_baseline() -> None:
    variants = ["original", "lowpass:0.1", "lowpass:0.2", "lowpass:0.3", "highpass:0.2"]
    result = AblationResult(study_table(("real", "fake"), variants), pd.DataFrame())
    fig = plot_cutoff_sweep(result.summary)
    ax = data_axes(fig)[0]
    labels = [line.get_label() for line in ax.lines]
    assert any(label.startswith("highpass") for label in labels)  # one point, not dropped
    original = float(result.summary.query("variant == 'original' and task == 'binary'")["accuracy"].iloc[0])
    baseline = [line for line in ax.lines if line.get_label().startswith("original")]
    assert len(baseline) == 1 and baseline[0].get_ydata()[0] == pytest.approx(original)
    assert chance_lines(fig) == {"binary": [0.5]}
    assert ax.get_ylim()[0] == 0.0 and ax.get_xlim()[0] == 0.0
    assert_legends_outside_the_data(fig)


# -- spectra ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_pair():
    return fp.demo_sets(n=16, size=32)


@pytest.mark.parametrize("n_fakes", [1, 4])
def test_the_spectra_figure_keeps_a_page_width_and_shows_ratios_in_decibels(demo_pair, n_fakes: int) -> None:
    real, fake = demo_pair
    names = ["real", *(f"gen{k}" for k in range(n_fakes))]
    report = fp.spectrum(real, *[fake] * n_fakes, names=names, device="cpu")
    fig = report.plot()
    width, _ = fig.get_size_inches()
    assert width <= 11.0  # 4 generated sets once made a 22-inch figure
    axes = data_axes(fig)
    maps = [ax for ax in axes if ax.images]
    assert len(maps) == 2 * (len(names) + n_fakes)  # no empty panel
    ratio = next(ax for ax in axes if ax.get_title().startswith("power ratio"))
    assert "dB" in ratio.get_ylabel() and ratio.get_xlabel().startswith("radial frequency")
    residual = next(ax for ax in maps if ax.get_title() == "gen0: residual spectrum")
    assert "peaks (fy, fx)" in residual.get_xlabel()  # listed under the map, not over it
    assert not any(text.get_bbox_patch() for ax in axes for text in ax.texts)
    assert_colour_bars_labelled(fig)
    assert_legends_outside_the_data(fig)
    sizes = [t.get_fontsize() for ax in axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)]
    assert min(sizes) >= 6


# -- probe --------------------------------------------------------------------------------
def curves_table() -> pd.DataFrame:
    rows = [("m", "original", "original", 0.0, 0.9)]
    rows += [("m", "contrast", c, lvl, acc) for c, lvl, acc in [("c100", 100, 0.9), ("c30", 30, 0.8), ("c05", 5, 0.6), ("c01", 1, 0.5)]]
    rows += [("m", "high-pass", c, lvl, acc) for c, lvl, acc in [("inf", np.inf, 0.9), ("3.0", 3.0, 0.8), ("0.4", 0.4, 0.5)]]
    rows += [("m", "lowpass", f"lowpass:{c}", c, acc) for c, acc in [(0.1, 0.6), (0.4, 0.85)]]
    table = pd.DataFrame(rows, columns=["model", "distortion", "condition", "level", "accuracy"])
    return table.assign(ci_low=table["accuracy"] - 0.05, ci_high=table["accuracy"] + 0.05)


def test_levels_sit_to_scale_and_severity_runs_mild_to_strong_in_every_panel() -> None:
    fig = plot_curves(curves_table(), chance=0.5)
    panels = {ax.get_title(): ax for ax in data_axes(fig)}
    contrast, high, low = panels["contrast"], panels["high-pass"], panels["lowpass"]
    assert contrast.get_xscale() == "log"  # 1 .. 100 percent, to scale
    x = contrast.lines[0].get_xdata()
    assert sorted(x) == [1, 5, 30, 100]
    for ax in (contrast, high, low):  # a smaller level is the stronger distortion: the axis runs reversed
        left, right = ax.get_xlim()
        assert left > right, ax.get_title()
    high_x = dict(zip([t.get_text() for t in high.get_xticklabels()], high.get_xticks()))
    assert high_x["inf"] > high_x["3.0"] > high_x["0.4"]  # 'inf' (no filter) sits at the mild end
    assert chance_lines(fig) == {"probe": [0.5, 0.5, 0.5]}  # one per panel, at the one task's chance
    baselines = [line for ax in panels.values() for line in ax.lines if line.get_gid() == "original"]
    assert len(baselines) == 3 and all(line.get_ydata()[0] == 0.9 for line in baselines)
    assert_legends_outside_the_data(fig)


def test_level_positions_put_non_finite_levels_one_step_beyond_the_mild_end() -> None:
    position, log = level_positions([np.inf, 3.0, 1.0], descending=True)
    assert not log and position.tolist() == [5.0, 3.0, 1.0]  # one step (2) beyond 3
    position, log = level_positions([1.0, 10.0, 100.0], descending=False)
    assert log and position.tolist() == [1.0, 10.0, 100.0]


def test_shape_bias_and_consistency_figures_keep_legends_off_and_label_kappa() -> None:
    bias = pd.DataFrame({"observer": ["a", "a", "b", "b"], "distortion": "original", "condition": "original",
                         "class": ["cat", "all", "cat", "all"], "shape_bias": [0.2, 0.3, 0.8, 0.7]})  # fmt: skip
    assert_legends_outside_the_data(plot_shape_bias(bias))
    consistency = pd.DataFrame({"observer_a": ["a"], "observer_b": ["b"], "distortion": ["contrast"],
                                "condition": ["all"], "kappa": [0.4], "observed": [0.8]})  # fmt: skip
    assert_colour_bars_labelled(plot_consistency(consistency))


# -- attribution --------------------------------------------------------------------------
def strided_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 4, stride=4), nn.GELU(), nn.Conv2d(6, 6, 3, padding=1), nn.GELU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 2),
    ).eval()  # fmt: skip


@pytest.fixture(scope="module")
def attribution(demo_pair):
    real, fake = demo_pair
    return fp.attribute(strided_net(), real, fake, bands=4, methods=["ablation"], pixel_methods=["gradcam", "ig"],
                        n_images=8, pixel_images=4, ig_steps=4, bootstrap=50, device="cpu")  # fmt: skip


def test_the_attribution_figure_labels_its_colour_bar_and_marks_the_stems_aliasing_grid(attribution) -> None:
    assert attribution.settings["stem_stride"] == 4
    fig = attribution.plot()
    assert_colour_bars_labelled(fig)
    assert_legends_outside_the_data(fig)
    plane = next(ax for ax in data_axes(fig) if ax.images)
    vertical = [line for line in plane.lines if line.get_gid() == "stride" and len(set(line.get_xdata())) == 1]
    grid = sorted({round(float(line.get_xdata()[0]), 6) for line in vertical})
    assert grid == [-0.5, -0.25, 0.25, 0.5]  # multiples of 1/4 cycles/px: the stride-4 stem's, not the data's
    assert any("stride-4" in text.get_text() for text in fig.texts)
    bars = next(ax for ax in data_axes(fig) if ax.get_title() == "feature ablation")
    low, high = bars.get_xlim()
    assert low <= 0 <= high and "cycles/pixel" in bars.get_ylabel()


def test_pixel_maps_have_colour_bars_and_real_and_fake_means_share_a_scale(attribution) -> None:
    grid = attribution.plot_pixels("gradcam")
    assert_colour_bars_labelled(grid)
    assert "receptive field" in grid.get_supxlabel()  # the model's pattern, explained on the figure
    real = np.random.default_rng(0).normal(size=(8, 8))
    fig = pixel_means_figure({"ig": np.stack([real, -real])})  # near negatives must look opposite
    assert_colour_bars_labelled(fig)
    (real_ax, fake_ax, _) = [ax for ax in data_axes(fig) if ax.images]
    assert real_ax.images[0].get_clim() == fake_ax.images[0].get_clim()
    assert np.allclose(real_ax.images[0].get_array(), -fake_ax.images[0].get_array())


def test_no_figure_uses_a_rainbow_colour_map(attribution) -> None:
    images = attribution.maps["shown_images"][:2]
    fig = pixel_grid_figure(images, np.abs(attribution.maps["pixel_gradcam"][:2]), np.array([0, 1]), "gradcam")
    draw(fig)
    assert {im.cmap.name for ax in fig.axes for im in ax.images if np.ndim(im.get_array()) == 2} <= {"magma"}
