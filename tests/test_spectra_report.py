"""``fp.spectrum``: tables, saving and redrawing, streaming, bad input, constant images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

import freqprobe as fp
from freqprobe.errors import DataError, FreqprobeError
from freqprobe.spectra import redraw
from freqprobe.spectra.measure import MeasurePlan, measure_luminance, measure_set


@pytest.fixture(scope="module")
def demo() -> tuple[fp.ImageSet, fp.ImageSet]:
    return fp.demo_sets(n=24, size=32)


@pytest.fixture(scope="module")
def report(demo: tuple[fp.ImageSet, fp.ImageSet]) -> fp.SpectrumReport:
    return fp.spectrum(*demo, names=["real", "generated"], device="cpu")


def test_table_is_the_radial_profile_with_the_contract_columns_first(report: fp.SpectrumReport) -> None:
    table = report.table
    assert table.columns[:3].tolist() == ["set", "f", "power"]
    assert set(table["spectrum"]) == {"image", "residual"}
    assert set(table.query("spectrum == 'image'")["channel"]) == {"R", "G", "B", "Y"}
    assert set(table.query("spectrum == 'residual'")["channel"]) == {"Y"}
    assert np.allclose(np.diff(np.unique(table["f"])), 1 / 32)


def test_comparison_marks_the_generator_s_lost_high_frequencies_as_significant(report: fp.SpectrumReport) -> None:
    image_y = report.comparison.query("spectrum == 'image' and channel == 'Y'").set_index("f")
    lost = image_y.loc[(image_y.index > 0.3) & (image_y.index < 0.45)]
    assert lost["significant"].all() and (lost["sde"] < -0.5).all()
    assert np.allclose(image_y["sde"], image_y["ratio"] - 1)


def test_subband_energies_add_up_to_the_mean_squared_luminance(demo: tuple[fp.ImageSet, fp.ImageSet]) -> None:
    report = fp.spectrum(*demo, device="cpu")
    bands = report.subbands.query("set == 'real'")
    weights = 4.0 ** -bands["level"].to_numpy()  # share of the pixels per coefficient at that level
    luminance = fp.transform("grayscale")(demo[0].float("cpu"))[:, 0]
    assert float((bands["energy"] * weights).sum()) == pytest.approx(float(luminance.square().mean()), rel=1e-4)
    assert bands[["level", "band"]].values.tolist()[:4] == [[3, "LL"], [3, "LH"], [3, "HL"], [3, "HH"]]


def test_dct_table_holds_the_block_mean_of_luminance_as_dc(demo: tuple[fp.ImageSet, fp.ImageSet]) -> None:
    report = fp.spectrum(*demo, device="cpu")
    dct = report.dct.query("set == 'real'")
    assert len(dct) == 64
    luminance = fp.transform("grayscale")(demo[0].float("cpu"))[:, 0]
    assert float(dct.query("u == 0 and v == 0")["mean"].iloc[0]) == pytest.approx(8 * float(luminance.mean()), rel=1e-5)


def test_results_do_not_depend_on_the_batch_size(demo: tuple[fp.ImageSet, fp.ImageSet]) -> None:
    whole = fp.spectrum(*demo, device="cpu", batch_size=64)
    batched = fp.spectrum(*demo, device="cpu", batch_size=5)
    for name in ("radial", "comparison", "angular", "subbands", "dct"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(batched, name), rtol=1e-4)
    assert np.allclose(whole.maps["image_power"], batched.maps["image_power"], rtol=1e-4, atol=1e-12)


def test_the_benchmarked_luminance_path_gives_the_luminance_numbers_of_fp_spectrum(
    demo: tuple[fp.ImageSet, fp.ImageSet],
) -> None:
    plan = MeasurePlan.build(32, 32, torch.device("cpu"), "hann", "gaussian", 5)
    alone, full = measure_luminance(demo[0], plan), measure_set(demo[0], plan).image
    for name in ("power", "decibels", "radial", "radial_db", "angular"):
        ours, theirs = getattr(alone, name), getattr(full, name)
        assert ours.count == theirs.count == len(demo[0])
        assert torch.allclose(ours.mean[0], theirs.mean[3], rtol=1e-4, atol=1e-12), name
        if name != "power":
            assert torch.allclose(ours.variance[0], theirs.variance[3], rtol=1e-3, atol=1e-12), name


def test_save_writes_tables_maps_and_figures_and_load_gives_them_back(
    report: fp.SpectrumReport, tmp_path: Path
) -> None:
    report.save(tmp_path)
    written = ["radial.csv", "peaks.csv", "comparison.csv", "maps.npz", "settings.json", "spectra.png", "spectra.pdf"]
    for name in written:
        assert (tmp_path / name).stat().st_size > 0
    assert not list(tmp_path.glob(".*partial"))
    assert pd.read_csv(tmp_path / "peaks.csv").columns[:5].tolist() == ["set", "fy", "fx", "radius", "score"]
    loaded = fp.SpectrumReport.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.table, report.table)
    assert np.array_equal(loaded.maps["residual_mean_db"], report.maps["residual_mean_db"])
    assert json.loads((tmp_path / "settings.json").read_text())["window"] == "hann"
    (tmp_path / "spectra.png").unlink()
    redraw(tmp_path)
    assert (tmp_path / "spectra.png").stat().st_size > 0


def test_plot_returns_a_figure(report: fp.SpectrumReport) -> None:
    assert isinstance(report.plot(), Figure)


def test_a_real_set_alone_is_measured_and_drawn(demo: tuple[fp.ImageSet, fp.ImageSet]) -> None:
    alone = fp.spectrum(demo[0], device="cpu")
    assert alone.comparison.empty and alone.maps["image_significant"].shape[0] == 0
    assert isinstance(alone.plot(), Figure)


def test_constant_images_give_no_nan() -> None:
    flat = fp.ImageSet(torch.full((8, 3, 16, 16), 128, dtype=torch.uint8))
    dark = fp.ImageSet(torch.zeros((8, 3, 16, 16), dtype=torch.uint8))
    report = fp.spectrum(flat, dark, device="cpu")
    for name in ("radial", "comparison", "angular", "subbands", "dct"):
        numbers = getattr(report, name).select_dtypes("number").to_numpy(dtype=float)
        assert not np.isnan(numbers).any(), name
    assert not any(np.isnan(v).any() for v in report.maps.values() if v.dtype.kind == "f")
    assert report.peaks.empty and not report.comparison["significant"].any()
    assert isinstance(report.plot(), Figure)


def test_sets_of_different_image_sizes_are_a_one_line_error() -> None:
    small = fp.ImageSet(torch.zeros(8, 3, 16, 16, dtype=torch.uint8))
    large = fp.ImageSet(torch.zeros(8, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(DataError, match=r"^sets differ in image size \(real 16x16, fake 32x32\); crop them"):
        fp.spectrum(small, large)


def test_too_few_images_is_a_one_line_error() -> None:
    few = fp.ImageSet(torch.zeros(7, 3, 16, 16, dtype=torch.uint8))
    enough = fp.ImageSet(torch.zeros(8, 3, 16, 16, dtype=torch.uint8))
    with pytest.raises(DataError, match="^set 'fake' has 7 images; spectra need at least 8 per set$"):
        fp.spectrum(enough, few)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"denoiser": "bm3d"}, "unknown denoiser 'bm3d'"),
        ({"window": "kaiser"}, "unknown window 'kaiser'"),
        ({"names": ["a", "a"]}, "names must be 2 distinct names"),
        ({"max_peaks": 0}, "max_peaks=0 must be an int >= 1"),
        ({"max_peaks": 2.5}, "max_peaks=2.5 must be an int >= 1"),
        ({"min_score": float("nan")}, "min_score=nan must be a finite number >= 0"),
        ({"min_score": -5}, "min_score=-5 must be a finite number >= 0"),
    ],
)
def test_bad_options_are_one_line_errors(kwargs: dict, message: str) -> None:
    images = fp.ImageSet(torch.zeros(8, 3, 16, 16, dtype=torch.uint8))
    with pytest.raises(FreqprobeError, match=message) as error:
        fp.spectrum(images, images, **kwargs)
    assert "\n" not in str(error.value)


def test_repr_is_a_summary_and_the_table_head_not_every_attribute(report: fp.SpectrumReport) -> None:
    text = repr(report)
    assert text.startswith("SpectrumReport: real (") and "peaks" in text and len(text.splitlines()) <= 13
    assert "<table" in report._repr_html_()


def test_one_set_alone_draws_no_comparison_panel(demo: tuple[fp.ImageSet, fp.ImageSet]) -> None:
    titles = [ax.get_title() for ax in fp.spectrum(demo[0], device="cpu").plot().axes]
    assert not any("spectral density error" in title for title in titles)


def test_saving_into_a_path_that_is_a_file_is_a_one_line_error(report: fp.SpectrumReport, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    with pytest.raises(FreqprobeError, match="taken: exists and is not a folder"):
        report.save(tmp_path / "taken")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_gives_the_cpu_numbers(demo: tuple[fp.ImageSet, fp.ImageSet], report: fp.SpectrumReport) -> None:
    on_gpu = fp.spectrum(*demo, names=["real", "generated"], device="cuda")
    pd.testing.assert_frame_equal(on_gpu.table, report.table, rtol=1e-3)
    pd.testing.assert_frame_equal(on_gpu.peaks[["set", "fy", "fx"]], report.peaks[["set", "fy", "fx"]])
