"""augment_vs_replace on labelled sets whose usefulness is known: a generator that draws
from the real class distributions, and one whose labels say nothing about the images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.errors import FreqprobeError
from freqprobe.training import Recipe
from synthetic import natural_like

FAST = Recipe(epochs=2, min_steps=40)


def two_classes(n: int, seed: int, labels_shuffled: bool = False, size: int = 16):
    """Class ``wave`` carries a sinusoid at (0.25, 0.25) cycles/pixel, class ``plain`` none;
    with ``labels_shuffled`` the labels are a random permutation (they carry no information)."""
    x = natural_like(2 * n, size, size, seed=seed) * 0.8 + 0.1
    yy, xx = np.mgrid[:size, :size]
    x[n:] = (x[n:] + torch.from_numpy(0.08 * np.cos(2 * np.pi * (0.25 * yy + 0.25 * xx))).float()).clamp(0, 1)
    labels = np.repeat([0, 1], n)
    if labels_shuffled:
        labels = np.random.default_rng(seed).permutation(labels)
    return fp.ImageSet((x * 255).round().to(torch.uint8)), labels, ["plain", "wave"]


@pytest.fixture(scope="module")
def useless_generator(tmp_path_factory) -> fp.AugmentResult:
    return fp.augment_vs_replace(two_classes(40, 0), two_classes(60, 1, labels_shuffled=True), two_classes(100, 2),
                                 ratios=(0.5, 1.0), seeds=2, recipe=FAST, device="cpu", progress=False,
                                 out=tmp_path_factory.mktemp("augment"))  # fmt: skip


def test_every_mode_and_ratio_is_trained_on_the_promised_counts(useless_generator) -> None:
    rows = useless_generator.table[useless_generator.table["seed"] == 0].set_index(["mode", "ratio"])
    assert rows.loc[("real", 0.0), ["n_real", "n_generated"]].tolist() == [80, 0]
    assert rows.loc[("augment", 0.5), ["n_real", "n_generated"]].tolist() == [80, 40]
    assert rows.loc[("augment", 1.0), ["n_real", "n_generated"]].tolist() == [80, 80]
    assert rows.loc[("replace", 0.5), ["n_real", "n_generated"]].tolist() == [40, 40]
    assert rows.loc[("generated", 1.0), ["n_real", "n_generated"]].tolist() == [0, 80]


def test_a_generator_whose_labels_mean_nothing_makes_replacing_fall_to_chance(useless_generator) -> None:
    summary = useless_generator.summary.set_index(["mode", "ratio"])
    assert summary.loc[("real", 0.0), "ci_low"] > 0.9
    generated = summary.loc[("generated", 1.0)]
    assert generated["ci_low"] <= 0.5 <= generated["ci_high"]
    replace = useless_generator.curves()["replace"]["accuracy"].to_numpy()
    assert replace[0] > replace[1] > replace[2]  # real, half replaced, all replaced
    augment = summary.loc[("augment", 0.5), "accuracy"]
    assert augment > summary.loc[("replace", 0.5), "accuracy"]  # with the real images kept, it holds up better


def test_a_generator_that_draws_from_the_real_classes_replaces_them_without_loss(tmp_path: Path) -> None:
    result = fp.augment_vs_replace(two_classes(40, 0), two_classes(40, 1), two_classes(100, 2), ratios=(1.0,),
                                   seeds=1, recipe=FAST, device="cpu", progress=False)  # fmt: skip
    summary = result.summary.set_index("mode")
    assert summary.loc["generated", "ci_low"] > 0.9 and summary.loc["real", "ci_low"] > 0.9


def test_the_tables_read_back_unchanged_and_a_rerun_trains_nothing(useless_generator, monkeypatch) -> None:
    folder = useless_generator.folder
    pd.testing.assert_frame_equal(pd.read_csv(folder / "augment.csv"), useless_generator.table, check_dtype=False)
    assert (folder / "augment.png").is_file() and fp.AugmentResult.load(folder).plot() is not None

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr("freqprobe.experiments.augment.train_classifier", no_training)
    again = fp.augment_vs_replace(two_classes(40, 0), two_classes(60, 1, labels_shuffled=True), two_classes(100, 2),
                                  ratios=(0.5, 1.0), seeds=2, recipe=FAST, device="cpu", progress=False, out=folder)  # fmt: skip
    pd.testing.assert_frame_equal(again.table, useless_generator.table)


def test_too_few_generated_images_or_other_classes_are_refused_before_training() -> None:
    with pytest.raises(FreqprobeError, match="needs 80 generated images"):
        fp.augment_vs_replace(two_classes(40, 0), two_classes(20, 1), two_classes(10, 2), ratios=(2.0,))
    images, labels, _ = two_classes(10, 1)
    with pytest.raises(FreqprobeError, match="the generated set has classes cat, dog"):
        fp.augment_vs_replace(two_classes(10, 0), (images, labels, ["cat", "dog"]), two_classes(10, 2))


def _write_class_folders(root: Path, labelled) -> Path:
    images, labels, names = labelled
    for k, (image, label) in enumerate(zip(images.images, labels)):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{k:03d}.png")
    return root


def test_the_command_line_runs_augment_on_class_folders(tmp_path: Path) -> None:
    parts = [_write_class_folders(tmp_path / name, two_classes(16, seed)) for seed, name in enumerate(("r", "g", "t"))]
    args = ["augment", "--real", str(parts[0]), "--generated", str(parts[1]), "--test", str(parts[2]),
            "--ratios", "1", "--seeds", "1", "--device", "cpu", "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 0
    assert set(pd.read_csv(tmp_path / "out" / "augment.csv")["mode"]) == {"real", "augment", "generated"}


def test_the_summary_is_the_mean_and_std_over_seeds_with_the_wilson_interval_at_the_mean() -> None:
    table = pd.DataFrame(
        [("real", 0.0, seed, 80, 0, 100, accuracy, 0.0, 1.0, 0.01, 0.5)
         for seed, accuracy in enumerate((0.7, 0.8, 0.9))]
        + [("augment", 0.5, 0, 80, 40, 100, 0.64, 0.0, 1.0, 0.01, 0.5)],
        columns=["mode", "ratio", "seed", "n_real", "n_generated", "n_test", "accuracy", "ci_low", "ci_high",
                 "p_value", "chance"],
    )  # fmt: skip
    summary = fp.AugmentResult(table).summary
    old = pd.DataFrame(  # what AugmentResult.summary gave before it used ablate's seed_summary
        [("real", 0.0, 3, 80, 0, 100, 0.8, 0.1, 0.7111708344068411, 0.8666330666689676, 0.5),
         ("augment", 0.5, 1, 80, 40, 100, 0.64, 0.0, 0.5423540245160874, 0.7272877959859567, 0.5)],
        columns=["mode", "ratio", "n_seeds", "n_real", "n_generated", "n_test", "accuracy", "accuracy_std", "ci_low",
                 "ci_high", "chance"],
    )  # fmt: skip
    pd.testing.assert_frame_equal(summary, old, rtol=1e-12)
    z = 1.959963984540054  # the 97.5% normal quantile

    def wilson(p: float, n: int) -> list[float]:  # closed form (Wilson 1927)
        centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return [(centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)]

    np.testing.assert_allclose(summary[["ci_low", "ci_high"]].to_numpy(), [wilson(0.8, 100), wilson(0.64, 100)])


@pytest.mark.parametrize(
    "seeds, ratios, fragment",
    [(2.5, (1.0,), "seeds must be"), (True, (1.0,), "seeds must be"), ([], (1.0,), "seeds must be"),
     (1, (0.0,), "ratios must be positive"), (1, (float("nan"),), "ratios must be positive")],
)  # fmt: skip
def test_seeds_and_ratios_are_checked_before_any_set_is_loaded(seeds, ratios, fragment: str, monkeypatch) -> None:
    def loaded(*args, **kwargs):
        raise AssertionError("a set was loaded")

    monkeypatch.setattr("freqprobe.experiments.augment.load_labelled", loaded)
    with pytest.raises(FreqprobeError, match=fragment):
        fp.augment_vs_replace("real/", "generated/", "test/", ratios=ratios, seeds=seeds)
