"""Phase and amplitude transforms have the spectra they claim."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import freqprobe as fp
from freqprobe.errors import SpecError
from freqprobe.transforms.phase import odd_symmetric_phase

from synthetic import natural_like


def fft(x: torch.Tensor) -> np.ndarray:
    return np.fft.fft2(x.double().numpy())


@pytest.mark.parametrize("size", [(32, 32), (25, 30)])
def test_phase_only_has_unit_amplitude_and_the_input_phase(size: tuple[int, int]) -> None:
    x = natural_like(2, *size)
    spectrum = fft(fp.transform("phase_only")(x))
    np.testing.assert_allclose(np.abs(spectrum), 1.0, atol=1e-4)
    original = fft(x)
    np.testing.assert_allclose(spectrum, original / np.abs(original), atol=1e-4)


@pytest.mark.parametrize("size", [(32, 32), (25, 30)])
def test_amplitude_only_has_the_input_amplitude_and_zero_phase(size: tuple[int, int]) -> None:
    x = natural_like(2, *size)
    spectrum = fft(fp.transform("amplitude_only")(x))
    np.testing.assert_allclose(spectrum.real, np.abs(fft(x)), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(spectrum.imag, 0.0, atol=1e-3)


@pytest.mark.parametrize("degrees", [10.0, 90.0, 180.0])
def test_phase_noise_keeps_amplitude_and_bounds_the_phase_shift(degrees: float) -> None:
    x = natural_like(4, 28, 33)
    y = fp.transform(f"phase_noise:{degrees}")(x)
    before, after = fft(x), fft(y)
    np.testing.assert_allclose(np.abs(after), np.abs(before), rtol=1e-3, atol=1e-3)
    shift = np.angle(after * np.conj(before))
    strong = np.abs(before) > 1e-2 * np.abs(before).max()
    assert np.abs(shift[strong]).max() <= np.radians(degrees) + 1e-3
    assert np.abs(shift[strong]).max() >= 0.8 * np.radians(degrees)  # the range is used


def test_phase_noise_is_odd_symmetric_and_shared_across_channels() -> None:
    shift = odd_symmetric_phase(60.0, 0, torch.arange(3), 16, 15).numpy()
    mirrored = np.roll(shift[:, ::-1, ::-1], shift=(1, 1), axis=(1, 2))
    np.testing.assert_allclose(shift, -mirrored, atol=1e-7)
    assert shift[:, 0, 0].tolist() == [0.0, 0.0, 0.0]  # DC keeps its (real) value
    x = natural_like(1, 16, 15, channels=1).repeat(1, 3, 1, 1)
    y = fp.transform("phase_noise:60")(x)
    torch.testing.assert_close(y[:, 0], y[:, 2])


def test_phase_noise_depends_on_seed_and_index_only() -> None:
    x = natural_like(6, 16, 16)
    t = fp.transform("phase_noise:45,seed=1")
    whole = t(x)
    halves = torch.cat([t(x[:3], torch.arange(3)), t(x[3:], torch.arange(3, 6))])
    torch.testing.assert_close(whole, halves)
    assert not torch.allclose(whole, fp.transform("phase_noise:45,seed=2")(x), atol=1e-3)


def test_power_equalize_gives_every_image_the_mean_amplitude() -> None:
    x = natural_like(5, 24, 20)
    t = fp.transform("power_equalize").fit(x)
    y = t(x)
    mean_amplitude = np.abs(fft(x)).mean(axis=0)
    np.testing.assert_allclose(np.abs(fft(y)), np.broadcast_to(mean_amplitude, y.shape), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(np.angle(fft(y) * np.conj(fft(x))), 0.0, atol=1e-3)


def test_power_equalize_fits_on_an_imageset_in_batches() -> None:
    x = natural_like(5, 16, 16)
    images = fp.ImageSet((x * 255).round().to(torch.uint8))
    from_tensor = fp.transform("power_equalize").fit(images.float("cpu"))
    from_set = fp.transform("power_equalize")
    from_set.fit(type("Batched", (), {"batches": lambda self, with_index: images.batches(2, "cpu", with_index)})())
    torch.testing.assert_close(from_set(x), from_tensor(x))


def test_power_equalize_must_be_fitted_on_the_same_size() -> None:
    with pytest.raises(SpecError, match="call .fit"):
        fp.transform("power_equalize")(torch.rand(1, 3, 8, 8))
    fitted = fp.transform("power_equalize").fit(torch.rand(2, 3, 8, 8))
    with pytest.raises(SpecError, match="another size"):
        fitted(torch.rand(1, 3, 8, 10))


def test_composition_fits_later_stages_on_earlier_outputs() -> None:
    x = natural_like(4, 16, 16)
    composed = fp.transform("lowpass:0.2+power_equalize").fit(x)
    low = fp.transform("lowpass:0.2")(x)
    expected = fp.transform("power_equalize").fit(low)(low)
    torch.testing.assert_close(composed(x), expected, atol=1e-5, rtol=0)
