"""What the figures of the experiments, the diffusion-classifier budget, the model-vs-human
benchmark and the Fourier heat map show (figure_checks.py), from tiny made-up tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist

from figure_checks import (
    assert_colour_bars_labelled,
    assert_legends_outside_the_data,
    assert_page_width,
    chance_lines,
    data_axes,
)
from freqprobe.figures.benchmark import LABELS, plot_benchmark, plot_observer
from freqprobe.figures.experiments import CONTROL, plot_augment, plot_drift, plot_guidance, plot_matrix
from freqprobe.figures.fourier_heatmap import plot_fourier_heatmap
from freqprobe.figures.generative import budget_figure


# -- experiments --------------------------------------------------------------------------
def matrix_table(names: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Pairwise accuracies growing with the distance between made-up set positions."""
    position = np.arange(len(names), dtype=float)
    rows = [dict(set_a=a, set_b=b, variant="original", accuracy=min(0.99, 0.5 + 0.05 * abs(i - j)), chance=0.5)
            for i, a in enumerate(names) for j, b in enumerate(names) if i < j]  # fmt: skip
    rows += [dict(set_a=a, set_b=a, variant=CONTROL, accuracy=0.51, chance=0.5) for a in names]
    return pd.DataFrame(rows), linkage(pdist(position[:, None]), method="average")


@pytest.mark.parametrize("k", [3, 24])
def test_the_compare_heat_map_is_magma_with_a_labelled_bar_and_a_page_wide(k: int) -> None:
    names = [f"set{i}" for i in range(k)]
    table, tree = matrix_table(names)
    fig = plot_matrix(table, names, tree, "original")
    assert_colour_bars_labelled(fig)  # magma, and the bar says "test accuracy (chance 0.5)"
    heat = next(ax for ax in data_axes(fig) if ax.images)
    assert heat.images[0].get_clim() == (0.5, 1.0)  # from chance up
    assert [t.get_text() for t in heat.get_xticklabels()] == [t.get_text() for t in heat.get_yticklabels()]
    assert np.allclose(np.diag(heat.images[0].get_array()), 0.51)  # the control on the diagonal
    assert_page_width(fig)


def drift_table() -> pd.DataFrame:
    rows = []
    for position, generation in enumerate(["g0", "g1", "g2"]):
        for reference in ("real", "previous"):
            accuracy = 0.6 + 0.1 * position if reference == "real" else 0.55
            rows.append(dict(variant="original", reference=reference, position=position, generation=generation,
                             accuracy=accuracy, ci_low=accuracy - 0.05, ci_high=accuracy + 0.05, chance=0.5))  # fmt: skip
        rows.append(dict(variant=CONTROL, reference="real", position=position, generation=generation,
                         accuracy=0.5, ci_low=0.45, ci_high=0.55, chance=0.5))  # fmt: skip
    return pd.DataFrame(rows)


def test_drift_curves_keep_the_legend_off_with_one_chance_line_and_one_control_entry() -> None:
    fig = plot_drift(drift_table())
    assert chance_lines(fig) == {"binary": [0.5]}
    ax = data_axes(fig)[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels.count(CONTROL) == 1 and "original vs real" in labels and "original vs previous" in labels
    assert ax.get_ylim()[0] < 0.5 and ax.get_ylabel() == "test accuracy"
    assert_legends_outside_the_data(fig)
    assert_page_width(fig)


def test_augment_against_replace_shows_chance_at_one_over_k_and_the_legend_off_the_curves() -> None:
    ratios = {"real": [0.0], "augment": [0.5, 1.0], "replace": [0.5], "generated": [1.0]}
    table = pd.DataFrame([dict(mode=m, ratio=r, seed=s, accuracy=0.7 - 0.1 * r + 0.01 * s, chance=0.25)
                          for m, rs in ratios.items() for r in rs for s in range(2)])  # fmt: skip
    summary = table.groupby(["mode", "ratio"], sort=False, as_index=False)["accuracy"].mean()
    summary = summary.assign(ci_low=summary["accuracy"] - 0.05, ci_high=summary["accuracy"] + 0.05)
    real = summary[summary["mode"] == "real"]
    curves = {"augment": pd.concat([real, summary[summary["mode"] == "augment"]]),
              "replace": pd.concat([real, summary[summary["mode"].isin(["replace", "generated"])]])}  # fmt: skip
    fig = plot_augment(curves, table)
    assert chance_lines(fig) == {"kway": [0.25]}
    assert_legends_outside_the_data(fig)
    assert_page_width(fig)


def test_realism_guidance_takes_the_real_reference_from_the_real_samples_and_keeps_legends_off() -> None:
    rng = np.random.default_rng(0)
    real = np.where(rng.random(400) < 0.7, 1.0, -1.0) + 0.3 * rng.normal(size=400)  # 70% in the right mode
    samples = pd.concat([pd.DataFrame({"source": "real", "scale": 0.0, "x1": real}),
                         pd.DataFrame({"source": "generated", "scale": 0.0, "x1": -real}),
                         pd.DataFrame({"source": "guided", "scale": 1.0, "x1": real})])  # fmt: skip
    modes = pd.DataFrame({"scale": [0.0, 1.0], "fraction_right": [0.3, 0.7], "closed_form": [0.3, 0.7]})
    fig = plot_guidance(samples, modes)
    right = data_axes(fig)[1]
    reference = next(line for line in right.lines if line.get_label() == "real")
    assert reference.get_ydata()[0] == pytest.approx(float((real > 0).mean()))
    assert_legends_outside_the_data(fig)
    assert_page_width(fig)


# -- generative ---------------------------------------------------------------------------
def test_the_budget_figure_shows_chance_and_bayes_with_the_legend_off_the_curves() -> None:
    table = pd.DataFrame([dict(weighting=w, budget=b, accuracy=0.6 + 0.02 * np.log2(b), agreement=0.7, ci_low=0.5,
                               ci_high=0.9) for w in ("uniform", "snr") for b in (4, 16, 64)])  # fmt: skip
    fig, ax = budget_figure(table, bayes_accuracy=0.82, chance=0.25)
    assert chance_lines(fig) == {"kway": [0.25]}
    assert ax.get_ylim()[0] == 0.0 and ax.get_xscale() == "log"
    assert any(line.get_label().startswith("Bayes accuracy") and line.get_ydata()[0] == 0.82 for line in ax.lines)
    assert_legends_outside_the_data(fig)
    assert_page_width(fig)


# -- model-vs-human benchmark -------------------------------------------------------------
OBSERVERS = ["humans", "resnet", "vit", "a-model-with-a-long-name"]
DATASETS = ["cue-conflict", "edge", "silhouette", "sketch", "stylized", "colour", "contrast", "eidolonI",
            "eidolonII", "eidolonIII", "false-colour", "high-pass"]  # fmt: skip


def test_the_benchmark_summary_is_a_page_wide_for_every_observer() -> None:
    summary = pd.DataFrame({"observer": OBSERVERS, **{m: np.linspace(0.2, 0.8, len(OBSERVERS)) for m in LABELS}})
    fig = plot_benchmark(summary)
    assert [ax.get_title() for ax in data_axes(fig)] == list(LABELS.values())
    assert_page_width(fig)


def test_the_observer_figure_wraps_to_two_rows_with_a_labelled_magma_confusion_matrix() -> None:
    table = pd.DataFrame([dict(observer=o, dataset=d, **{m: 0.5 for m in LABELS}) for o in ("resnet", "humans")
                          for d in DATASETS])  # fmt: skip
    categories = ["cat", "dog", "car"]
    confusion = pd.DataFrame([dict(observer="resnet", dataset="edge", condition="0", response=r, category=c,
                                   count=5 if r == c else 1) for r in categories for c in categories])  # fmt: skip
    conditions = pd.DataFrame({"observer": ["resnet"], "dataset": ["edge"], "condition": ["0"], "excluded": [False]})
    fig = plot_observer(table, confusion, "resnet", conditions)
    assert len(data_axes(fig)) == 6
    matrix = next(ax for ax in data_axes(fig) if ax.images)
    assert np.allclose(np.nansum(matrix.images[0].get_array(), axis=0), 100)  # each presented category sums to 100%
    assert_colour_bars_labelled(fig)
    assert_legends_outside_the_data(fig)
    assert_page_width(fig)


# -- Fourier heat map ---------------------------------------------------------------------
@pytest.mark.parametrize("top_k", [(1,), (1, 2, 3, 5)])
def test_the_fourier_heat_map_wraps_its_panels_and_labels_each_colour_bar(top_k) -> None:
    maps = np.random.default_rng(0).random((len(top_k), 8, 8))
    fig = plot_fourier_heatmap(maps, np.full(len(top_k), 0.1), top_k, eps=4.0)
    assert len(data_axes(fig)) == len(top_k)  # no empty panel
    assert_colour_bars_labelled(fig)
    assert_page_width(fig)


# -- detection limits -----------------------------------------------------------------------
@pytest.mark.parametrize("detectors", [["network"], ["spatial", "whitened", "linear"]])
def test_the_audiogram_figure_labels_its_magma_maps_keeps_legends_off_and_fits_a_page(detectors) -> None:
    from freqprobe.figures.common import SEQUENTIAL_CMAP
    from freqprobe.figures.limits import plot_limits

    fy, fx = np.meshgrid([-0.25, 0.0, 0.25], [0.125, 0.25, 0.375], indexing="ij")
    table = pd.DataFrame({"fy": fy.ravel(), "fx": fx.ravel(), "radius": np.hypot(fy, fx).ravel()})
    for k, detector in enumerate(detectors):
        threshold = (1 + k) * (0.5 + table["radius"].to_numpy())
        threshold[0] = np.inf  # one frequency not detected at the largest amplitude
        table[f"threshold_{detector}"] = threshold
        table[f"threshold_{detector}_low"], table[f"threshold_{detector}_high"] = threshold / 1.4, threshold * 1.4
    fig = plot_limits(table, detectors)
    maps = [c for ax in data_axes(fig) for c in ax.collections if c.get_array() is not None and c.colorbar]
    assert len(maps) == len(detectors)
    assert {m.cmap.name for m in maps} == {SEQUENTIAL_CMAP} and len({m.get_clim() for m in maps}) == 1  # one scale
    assert all(m.colorbar.ax.get_ylabel() == "threshold [grey levels]" for m in maps)
    curves = next(ax for ax in data_axes(fig) if ax.get_yscale() == "log")
    assert [line.get_ydata()[0] for line in curves.lines if line.get_linestyle() == ":"] == [0.5]  # the uint8 floor
    assert_legends_outside_the_data(fig)
    assert_page_width(fig)
