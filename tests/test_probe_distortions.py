"""The model-vs-human distortions against independent references and physical facts."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.color import rgb2gray

from freqprobe.errors import FreqprobeError
from freqprobe.probe import DISTORTIONS, parse_conditions
from freqprobe.probe.distortions import BACKGROUND_GREY, grey, opponent_colours
from freqprobe.probe.gamma import gamma_table
from synthetic import natural_like


def images(n: int = 4, size: int = 32, seed: int = 0) -> torch.Tensor:
    return natural_like(n, size, size, seed=seed).double()


def mid_grey(n: int = 4, size: int = 32, spread: float = 0.1, seed: int = 0) -> torch.Tensor:
    """Low-contrast images around 0.5: no distortion below needs clipping on them."""
    return 0.5 + spread * (images(n, size, seed) - 0.5)


def apply(item: str, x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    (condition,) = parse_conditions(item, seed=seed)
    condition.fit([(torch.arange(len(x)), x)])
    return condition(x, torch.arange(len(x)))


def grey_numpy(x: torch.Tensor) -> np.ndarray:
    return np.stack([rgb2gray(image) for image in x.permute(0, 2, 3, 1).numpy()])


def test_grey_is_skimage_rgb2gray_in_every_channel() -> None:
    x = images()
    out = grey(x)
    assert out.shape == x.shape
    for c in range(3):
        np.testing.assert_allclose(out[:, c].numpy(), grey_numpy(x), atol=1e-12)


@pytest.mark.parametrize("percent", [100, 50, 10, 1])
def test_contrast_scales_grey_around_mid_grey(percent: int) -> None:
    x = images()
    c = percent / 100
    expected = (1 - c) / 2 + c * grey_numpy(x)
    np.testing.assert_allclose(apply(f"contrast:{percent}", x)[:, 0].numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("sigma", [1, 3, 7])
def test_low_pass_is_scipy_gaussian_filter_with_a_mean_grey_border(sigma: float) -> None:
    x = images()
    blurred = [ndimage.gaussian_filter(g, sigma, mode="constant", cval=BACKGROUND_GREY) for g in grey_numpy(x)]
    expected = np.clip(np.stack(blurred), 0, 1)
    np.testing.assert_allclose(apply(f"low-pass:{sigma}", x)[:, 0].numpy(), expected, atol=1e-10)


def test_low_pass_zero_is_the_grey_image() -> None:
    x = images()
    np.testing.assert_allclose(apply("low-pass:0", x)[:, 0].numpy(), grey_numpy(x), atol=1e-12)


@pytest.mark.parametrize("sigma", [3.0, 1.0, 0.55])
def test_high_pass_matches_the_original_stimulus_code(sigma: float) -> None:
    x = images()
    expected = []
    for g in grey_numpy(x):  # image_manipulation.high_pass_filter
        detail = g - ndimage.gaussian_filter(g, sigma, mode="constant", cval=BACKGROUND_GREY)
        expected.append(np.clip(detail + BACKGROUND_GREY - detail.mean(), 0, 1))
    np.testing.assert_allclose(apply(f"high-pass:{sigma}", x)[:, 0].numpy(), np.stack(expected), atol=1e-10)


def test_high_pass_inf_only_moves_the_mean_to_the_background_grey() -> None:
    x = mid_grey()
    out = apply("high-pass:inf", x)[:, 0].numpy()
    g = grey_numpy(x)
    np.testing.assert_allclose(out, g - g.mean(axis=(1, 2), keepdims=True) + BACKGROUND_GREY, atol=1e-12)


def amplitude(x: torch.Tensor) -> np.ndarray:
    return np.abs(np.fft.fft2(x[:, 0].numpy()))


def test_phase_scrambling_keeps_the_amplitude_spectrum_and_changes_the_image() -> None:
    x = mid_grey()
    out = apply("phase-scrambling:90", x)
    assert 0 < out.min() and out.max() < 1  # nothing clipped, so the amplitudes must agree
    np.testing.assert_allclose(amplitude(out), amplitude(grey(x)), rtol=1e-6, atol=1e-9)
    assert (out - grey(x)).abs().max() > 0.01
    np.testing.assert_allclose(apply("phase-scrambling:0", x).numpy(), grey(x).numpy(), atol=1e-12)


def test_phase_scrambling_shifts_are_uniform_in_plus_minus_the_width() -> None:
    x = mid_grey(n=8)
    spectrum_in = np.fft.fft2(grey(x)[:, 0].numpy())
    spectrum_out = np.fft.fft2(apply("phase-scrambling:90", x, seed=2)[:, 0].numpy())
    shift = np.degrees(np.angle(spectrum_out * np.conj(spectrum_in)))
    shift[:, [0, 16], :], shift[:, :, [0, 16]] = np.nan, np.nan  # rows and columns holding DC / Nyquist
    shift = shift[~np.isnan(shift)]
    assert np.abs(shift).max() <= 90 + 1e-6
    assert abs(shift.mean()) < 2 and shift.std() == pytest.approx(90 / math.sqrt(3), rel=0.03)


def test_power_equalisation_gives_every_image_the_mean_amplitude_spectrum() -> None:
    x = mid_grey(n=6)
    out = apply("power-equalisation:pow", x)
    assert 0 < out.min() and out.max() < 1
    mean = amplitude(grey(x)).mean(axis=0)
    for image_amplitude in amplitude(out):
        np.testing.assert_allclose(image_amplitude, mean, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(apply("power-equalisation:0", x).numpy(), grey(x).numpy())


def test_uniform_noise_is_uniform_in_plus_minus_width_on_the_30_percent_contrast_image() -> None:
    x = mid_grey(n=8, size=64)
    base = apply("uniform-noise:0", x)
    np.testing.assert_allclose(base[:, 0].numpy(), 0.35 + 0.3 * grey_numpy(x), atol=1e-12)
    noise = (apply("uniform-noise:0.2", x) - base)[:, 0].numpy()
    assert noise.min() >= -0.2 and noise.max() <= 0.2
    assert abs(noise.mean()) < 0.003 and noise.std() == pytest.approx(0.2 / math.sqrt(3), rel=0.02)


def test_uniform_noise_clips_to_the_unit_range_and_repeats_per_image_whatever_the_batch() -> None:
    x = images(n=6)
    out = apply("uniform-noise:0.9", x, seed=3)
    assert out.min() == 0 and out.max() == 1
    (condition,) = parse_conditions("uniform-noise:0.9", seed=3)
    second_half = condition(x[3:], torch.arange(3, 6))
    np.testing.assert_array_equal(second_half.numpy(), out[3:].numpy())
    assert not torch.equal(apply("uniform-noise:0.9", x, seed=4), out)


@pytest.mark.parametrize(("degrees", "code"), [(90, cv2.ROTATE_90_COUNTERCLOCKWISE), (180, cv2.ROTATE_180),
                                               (270, cv2.ROTATE_90_CLOCKWISE)])  # fmt: skip
def test_rotation_is_counter_clockwise_as_opencv(degrees: int, code: int) -> None:
    x = images(n=2)
    expected = np.stack([cv2.rotate(g, code) for g in grey_numpy(x)])
    np.testing.assert_allclose(apply(f"rotation:{degrees}", x)[:, 0].numpy(), expected, atol=1e-12)


def test_false_colour_keeps_mid_grey_swaps_red_green_and_is_its_own_inverse() -> None:
    x = mid_grey(spread=0.1)
    once = opponent_colours(x)
    np.testing.assert_allclose(opponent_colours(once).numpy(), x.numpy(), atol=1e-9)
    grey_pixel = torch.full((1, 3, 1, 1), 0.5, dtype=torch.float64)
    np.testing.assert_allclose(opponent_colours(grey_pixel).flatten().numpy(), [0.5] * 3, atol=2e-3)
    reddish = torch.tensor([0.6, 0.45, 0.5], dtype=torch.float64).view(1, 3, 1, 1)
    r, g, _ = opponent_colours(reddish).flatten().tolist()
    assert g > r
    np.testing.assert_allclose(apply("false-colour:True", x).numpy(), x.numpy())


def opponent_colours_original(image: np.ndarray) -> np.ndarray:
    """``get_opponent_colours`` of rgeirhos/generalisation-humans-DNNs (``image_manipulation.py``), on HWC."""
    cones_of_rgb = np.array([[0.1619982647, 0.208049264, 0.0389347448],
                             [0.0330275785, 0.2496504557, 0.0618343518],
                             [0.0015524055, 0.0198861001, 0.1890224274]])  # fmt: skip
    white = [0.20449114, 0.17225619, 0.10523047]
    dkl_of_cones = np.array([[9.27590805, 9.27590805, 0], [7.86421647, -9.33587662, 0],
                             [-3.39709047, -3.39709047, 12.16230246]])  # fmt: skip
    dkl = np.einsum("ij,klj->kli", dkl_of_cones, np.einsum("ij,klj->kli", cones_of_rgb, image) - white)
    dkl[:, :, 1] *= -1
    dkl[:, :, 2] *= -1
    cones = np.einsum("ij,klj->kli", np.linalg.inv(dkl_of_cones), dkl) + white
    return np.einsum("ij,klj->kli", np.linalg.inv(cones_of_rgb), cones)


def false_colour_original(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``false_colour`` of rgeirhos/generalisation-humans-DNNs on HWC 8-bit values / 255:
    the gamma table's entry, the opponent flip, clipping, the nearest entry's index / 255."""
    light = table[np.round(image * 255).astype(np.uint8)]
    flipped = np.clip(opponent_colours_original(light), 0, 1)
    return np.abs(flipped[..., None] - table).argmin(axis=-1) / 255


#: A display of gamma 2.2 (a plain power law), the table the reference tests pass.
POWER_22 = (np.arange(256) / 255) ** 2.2


def srgb_reference(v: np.ndarray) -> np.ndarray:
    """The sRGB decoding of IEC 61966-2-1: linear below 0.04045, else a 2.4 power."""
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def random_8bit(n: int = 3, size: int = 16) -> torch.Tensor:
    return (torch.randint(0, 256, (n, 3, size, size), generator=torch.Generator().manual_seed(0)) / 255).double()


def false_colour_reference(x: torch.Tensor, table: np.ndarray) -> np.ndarray:
    return np.stack([false_colour_original(image, table) for image in x.permute(0, 2, 3, 1).numpy()])


def false_colour_of(x: torch.Tensor, monitor_gamma=None) -> np.ndarray:
    (condition,) = parse_conditions("false-colour:False", monitor_gamma=monitor_gamma)
    return condition(x, torch.arange(len(x))).permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("given", ["array", "list", "npy"])
def test_false_colour_is_the_original_code_with_the_users_gamma_table(given: str, tmp_path) -> None:
    np.save(tmp_path / "monitor.npy", POWER_22)
    table = {"array": POWER_22, "list": POWER_22.tolist(), "npy": tmp_path / "monitor.npy"}[given]
    x = random_8bit()
    out = false_colour_of(x, table)
    np.testing.assert_allclose(out, false_colour_reference(x, POWER_22), atol=1e-12)
    assert np.abs(out - false_colour_of(x)).max() >= 1 / 255  # the table is used: sRGB gives other values


def test_false_colour_by_default_is_the_original_code_on_an_srgb_display() -> None:
    x = random_8bit()
    expected = false_colour_reference(x, srgb_reference(np.arange(256) / 255))
    np.testing.assert_allclose(false_colour_of(x), expected, atol=1e-12)
    np.testing.assert_allclose(apply("false-colour:False", x).permute(0, 2, 3, 1).numpy(), expected, atol=1e-12)


def test_the_default_gamma_table_is_the_srgb_curve() -> None:
    table = gamma_table()
    assert table.shape == (256,) and table[0] == 0 and table[255] == pytest.approx(1, abs=1e-12)
    # published sRGB values: 8-bit 128 -> 0.2158605, 64 -> 0.0512695, 10 (linear part) -> 10/255/12.92
    np.testing.assert_allclose(table[[128, 64, 10]], [0.2158605, 0.0512695, 0.0030353], atol=5e-8)
    np.testing.assert_allclose(table, srgb_reference(np.arange(256) / 255), atol=1e-15)


@pytest.mark.parametrize(("table", "message"), [
    (POWER_22[:255], r"monitor gamma table has shape \(255,\), not 256 entries"),
    (np.r_[POWER_22[:100], POWER_22[101], POWER_22[100], POWER_22[102:]], "is not increasing .entry 101 "),
    (np.where(np.arange(256) == 7, np.nan, POWER_22), "has NaN or infinite entries"),
    (100 * POWER_22, r"spans \[0, 100\], not light output within \[0, 1\]"),
    (["a"] * 256, "not an array of numbers"),
])  # fmt: skip
def test_a_malformed_gamma_table_is_a_one_line_error(table, message: str) -> None:
    with pytest.raises(FreqprobeError, match=message) as err:
        parse_conditions("false-colour:False", monitor_gamma=table)
    assert "\n" not in str(err.value)


def test_a_malformed_or_missing_gamma_file_is_a_one_line_error(tmp_path) -> None:
    np.save(tmp_path / "short.npy", POWER_22[:10])
    (tmp_path / "text.npy").write_text("0 0.1 0.2")
    for name, message in [("short.npy", r"'.*short.npy' has shape \(10,\)"),
                          ("text.npy", "'.*text.npy': cannot read a .npy table"),
                          ("none.npy", "'.*none.npy': cannot read a .npy table .*No such file")]:  # fmt: skip
        with pytest.raises(FreqprobeError, match=f"monitor gamma {message}") as err:
            parse_conditions("false-colour", monitor_gamma=tmp_path / name)
        assert "\n" not in str(err.value)


def test_false_colour_without_gamma_is_the_original_opponent_colour_code() -> None:
    x = mid_grey(spread=0.2)  # colours near grey: the original's output needs no clipping here
    expected = np.stack([opponent_colours_original(image) for image in x.permute(0, 2, 3, 1).numpy()])
    assert 0 < expected.min() and expected.max() < 1
    out = opponent_colours(x).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-10)


def test_false_colour_twice_gives_the_image_back_to_within_the_tables_steps() -> None:
    x = (torch.round(mid_grey(spread=0.2) * 255) / 255).double()
    twice = apply("false-colour:False", apply("false-colour:False", x))
    assert float((twice - x).abs().max()) <= 2 / 255


def test_every_preset_label_reads_back_as_itself() -> None:
    for distortion in DISTORTIONS.values():
        for text in distortion.preset:
            assert distortion.label(distortion.parse(text)) == text


def test_levels_accept_numbers_and_labels() -> None:
    assert [c.label for c in parse_conditions("contrast:5,c50")] == ["c05", "c50"]
    assert [c.level for c in parse_conditions("high-pass:inf,3")] == [math.inf, 3.0]
    assert [c.label for c in parse_conditions("power-equalisation")] == ["0", "pow"]


@pytest.mark.parametrize(("item", "message"), [
    ("rotation:45", "rotation: level '45' is not valid"),
    ("contrast:150", "contrast: level '150'"),
    ("colour:grey", "colour: level 'grey'"),
    ("wobble:3", "unknown distortion 'wobble' in 'wobble:3'; benchmark distortions: colour, contrast, high-pass, "
                 "low-pass.*; filter-bank transforms: .*lowpass"),
    (["low-pass:1", "low-pass:1"], "listed twice"),
])  # fmt: skip
def test_bad_levels_are_one_line_errors(item, message: str) -> None:
    with pytest.raises(FreqprobeError, match=message):
        parse_conditions(item)


def test_filter_bank_specs_form_curves_by_their_first_argument() -> None:
    conditions = parse_conditions(["lowpass:0.1,window=gaussian", "lowpass:0.2,window=gaussian", "grayscale"])
    assert [(c.distortion, c.level, c.label) for c in conditions] == [
        ("lowpass:window=gaussian", 0.1, "lowpass:0.1,window=gaussian"),
        ("lowpass:window=gaussian", 0.2, "lowpass:0.2,window=gaussian"),
        ("grayscale", 0.0, "grayscale"),
    ]
