from __future__ import annotations

import io
import os
import re
import warnings
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from freqprobe import ImageSet, load_images
from freqprobe.data import decode
from freqprobe.data.sizing import SizePolicy
from freqprobe.errors import DataError


def save(path: Path, pixels: np.ndarray | Image.Image, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    image.save(path, **options)
    return path


def noise(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(0, 256, shape, dtype=np.uint8)


def nchw(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))


def truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def load_error(*args, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        load_images(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- folders and files ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, options",
    [("a.png", {}), ("a.bmp", {}), ("a.tif", {}), ("a.tiff", {}), ("a.webp", {"lossless": True})],
)
def test_lossless_formats_load_exact_pixels(tmp_path, rng, name, options) -> None:
    pixels = noise(rng, 12, 10, 3)
    save(tmp_path / name, pixels, **options)
    images = load_images(tmp_path)
    assert isinstance(images, ImageSet) and images.names == [name] and images.origin == str(tmp_path)
    assert torch.equal(images.images[0], nchw(pixels))


@pytest.mark.parametrize("name", ["a.jpg", "a.jpeg"])
def test_jpeg_loads_what_pil_decodes(tmp_path, rng, name) -> None:
    save(tmp_path / name, noise(rng, 16, 16, 3), quality=90)
    expected = np.asarray(Image.open(tmp_path / name).convert("RGB"))
    assert torch.equal(load_images(tmp_path).images[0], nchw(expected))


def test_folder_is_walked_recursively_sorted_by_relative_path_case_insensitively(tmp_path, rng) -> None:
    for name in ["b/z.PNG", "a.JPG", "b/a/x.Tif", "c.jpeg", "b/y.webp"]:
        save(tmp_path / name, noise(rng, 8, 8, 3))
    save(tmp_path / ".hidden.png", noise(rng, 8, 8, 3))
    save(tmp_path / ".ipynb_checkpoints" / "a.png", noise(rng, 8, 8, 3))
    (tmp_path / "notes.txt").write_text("not an image")
    images = load_images(tmp_path)
    assert images.names == ["a.JPG", "b/a/x.Tif", "b/y.webp", "b/z.PNG", "c.jpeg"]
    assert images.images.shape == (5, 3, 8, 8) and images.images.dtype == torch.uint8


def test_single_image_file_is_a_set_of_one(tmp_path, rng) -> None:
    pixels = noise(rng, 6, 7, 3)
    path = save(tmp_path / "one.png", pixels)
    images = load_images(path)
    assert images.names == ["one.png"] and images.origin == str(path)
    assert torch.equal(images.images[0], nchw(pixels))


def test_workers_do_not_change_the_result(tmp_path, rng) -> None:
    for i in range(6):
        save(tmp_path / f"{i}.png", noise(rng, 9, 9, 3))
    assert torch.equal(load_images(tmp_path, workers=1).images, load_images(tmp_path, workers=4).images)


def test_progress_bar_is_shown_on_request(tmp_path, rng, capsys) -> None:
    save(tmp_path / "a.png", noise(rng, 4, 4, 3))
    load_images(tmp_path, progress=True)
    assert "1/1" in capsys.readouterr().err


# -- pixel modes ------------------------------------------------------------------------


def test_grayscale_is_replicated_to_three_channels(tmp_path, rng) -> None:
    gray = noise(rng, 5, 6)
    save(tmp_path / "g.png", gray)
    assert torch.equal(load_images(tmp_path).images[0], torch.from_numpy(gray).expand(3, 5, 6))


def test_alpha_is_dropped_with_one_warning_counting_the_files(tmp_path, rng) -> None:
    rgba, la = noise(rng, 4, 4, 4), noise(rng, 4, 4, 2)
    save(tmp_path / "rgba.png", rgba)
    save(tmp_path / "la.png", Image.fromarray(la, mode="LA"))
    save(tmp_path / "rgb.png", noise(rng, 4, 4, 3))
    with pytest.warns(UserWarning, match="dropped the alpha channel of 2 images") as record:
        images = load_images(tmp_path)
    assert len(record) == 1
    assert torch.equal(images.images[images.names.index("rgba.png")], nchw(rgba[:, :, :3]))
    assert torch.equal(images.images[images.names.index("la.png")], torch.from_numpy(la[:, :, 0]).expand(3, 4, 4))


SIXTEEN_BIT = np.array([[0, 255, 256, 257], [1000, 32896, 65279, 65535]], dtype=np.uint16)
SIXTEEN_BIT_AS_8 = np.array([[0, 0, 1, 1], [3, 128, 254, 255]], dtype=np.uint8)  # v >> 8


@pytest.mark.parametrize("name, dtype", [("a.png", np.uint16), ("a.tif", np.int32)])
def test_sixteen_bit_grayscale_is_rounded_to_eight_bits(tmp_path, name, dtype) -> None:
    image = Image.fromarray(SIXTEEN_BIT.astype(dtype))
    assert image.mode == ("I;16" if dtype == np.uint16 else "I")
    save(tmp_path / name, image)
    assert torch.equal(load_images(tmp_path).images[0], torch.from_numpy(SIXTEEN_BIT_AS_8).expand(3, 2, 4))


def test_sixteen_bit_rgb_follows_the_same_rule(tmp_path) -> None:
    cv2.imwrite(str(tmp_path / "rgb.png"), np.repeat(SIXTEEN_BIT[:, :, None], 3, axis=2))
    assert Image.open(tmp_path / "rgb.png").mode == "RGB"
    assert torch.equal(load_images(tmp_path).images[0], torch.from_numpy(SIXTEEN_BIT_AS_8).expand(3, 2, 4))


def test_float_grayscale_in_unit_range_is_scaled(tmp_path) -> None:
    save(tmp_path / "f.tif", Image.fromarray(np.array([[0.0, 0.5], [1 / 255, 1.0]], dtype=np.float32)))
    expected = torch.tensor([[0, 128], [1, 255]], dtype=torch.uint8).expand(3, 2, 2)
    assert torch.equal(load_images(tmp_path).images[0], expected)


def test_float_grayscale_out_of_range_is_an_error(tmp_path) -> None:
    save(tmp_path / "f.tif", Image.fromarray(np.array([[0.0, 2.0]], dtype=np.float32)))
    assert re.search(r"f\.tif: F pixel values span \[0\.0, 2\.0\]", load_error(tmp_path))


def test_palette_is_converted_to_its_colours(tmp_path) -> None:
    image = Image.fromarray(np.array([[0, 1], [1, 2]], dtype=np.uint8), mode="P")
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    save(tmp_path / "p.png", image)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_images(tmp_path).images[0]
    expected = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    assert torch.equal(loaded, nchw(expected))


def test_palette_with_transparency_drops_alpha_with_a_warning(tmp_path) -> None:
    image = Image.fromarray(np.array([[0, 1]], dtype=np.uint8), mode="P")
    image.putpalette([10, 20, 30, 40, 50, 60])
    save(tmp_path / "p.png", image, transparency=0)
    with pytest.warns(UserWarning, match="alpha channel of 1 image"):
        loaded = load_images(tmp_path).images[0]
    assert torch.equal(loaded, nchw(np.array([[[10, 20, 30], [40, 50, 60]]], dtype=np.uint8)))


def test_cmyk_is_converted_to_rgb(tmp_path) -> None:
    cmyk = np.array([[[0, 0, 0, 0], [0, 255, 255, 0], [0, 0, 0, 255]]], dtype=np.uint8)
    save(tmp_path / "c.tif", Image.fromarray(cmyk, mode="CMYK"))
    expected = np.array([[[255, 255, 255], [255, 0, 0], [0, 0, 0]]], dtype=np.uint8)
    assert torch.equal(load_images(tmp_path).images[0], nchw(expected))


# -- arrays, .npz and .npy ----------------------------------------------------------------


@pytest.mark.parametrize("writer", [np.savez, np.savez_compressed])
def test_npz_in_the_adm_sample_convention(tmp_path, rng, writer) -> None:
    samples = noise(rng, 5, 6, 7, 3)
    writer(tmp_path / "samples.npz", samples, np.arange(5))
    images = load_images(tmp_path / "samples.npz")
    assert images.names == ["0", "1", "2", "3", "4"] and images.origin == str(tmp_path / "samples.npz")
    assert torch.equal(images.images, torch.from_numpy(samples).permute(0, 3, 1, 2))


def test_fortran_ordered_npz_loads_the_same(tmp_path, rng) -> None:
    samples = noise(rng, 3, 4, 5, 3)
    np.savez(tmp_path / "f.npz", np.asfortranarray(samples))
    assert torch.equal(load_images(tmp_path / "f.npz").images, torch.from_numpy(samples).permute(0, 3, 1, 2))


def test_npy_is_loaded_and_cropped(tmp_path, rng) -> None:
    samples = noise(rng, 4, 3, 10, 10)
    np.save(tmp_path / "a.npy", samples)
    images = load_images(tmp_path / "a.npy", size=4)
    assert torch.equal(images.images, torch.from_numpy(samples[:, :, 3:7, 3:7]))


def test_nhwc_and_nchw_arrays_give_the_same_images(rng) -> None:
    nhwc = noise(rng, 3, 5, 6, 3)
    from_nhwc = load_images(nhwc)
    assert from_nhwc.origin == "array" and from_nhwc.names == ["0", "1", "2"]
    assert torch.equal(from_nhwc.images, torch.from_numpy(nhwc).permute(0, 3, 1, 2))
    assert torch.equal(load_images(nhwc.transpose(0, 3, 1, 2)).images, from_nhwc.images)


def test_float_arrays_in_unit_range_are_rounded_to_uint8(rng) -> None:
    levels = noise(rng, 2, 3, 4, 4)
    for floats in (levels / 255.0, torch.from_numpy(levels / 255.0).half(), torch.from_numpy(levels).float() / 255):
        assert torch.equal(load_images(floats).images, torch.from_numpy(levels))


def test_uint8_torch_tensor_is_loaded(rng) -> None:
    levels = torch.from_numpy(noise(rng, 2, 5, 5, 3))
    assert torch.equal(load_images(levels).images, levels.permute(0, 3, 1, 2))


@pytest.mark.parametrize("shape", [(2, 4, 5), (2, 1, 4, 5), (2, 4, 5, 1)])
def test_grayscale_arrays_are_replicated(rng, shape) -> None:
    gray = noise(rng, *shape)
    expected = torch.from_numpy(gray.reshape(2, 1, 4, 5)).expand(2, 3, 4, 5)
    assert torch.equal(load_images(gray).images, expected)


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros((2, 3, 4, 3), np.uint8), "ambiguous channel axis"),
        (np.zeros((2, 4, 5, 4), np.uint8), "ambiguous channel axis"),
        (np.zeros((2, 5, 5, 6), np.uint8), "no channel axis"),
        (np.zeros((5, 5), np.uint8), "got shape \\(5, 5\\)"),
        (np.zeros((0, 4, 4, 3), np.uint8), "no images"),
        (np.zeros((2, 4, 4, 3), np.int64), "got dtype int64"),
    ],
)
def test_arrays_of_wrong_layout_or_dtype_are_refused(array, match) -> None:
    assert re.search(match, load_error(array))


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_one_image_without_a_batch_axis_is_refused(rng, channels) -> None:
    message = load_error(noise(rng, 8, 6, channels))
    assert message == f"array: shape (8, 6, {channels}) looks like one H×W×C image; add a batch axis (array[None])"


def test_rgba_arrays_drop_alpha_with_the_warning_files_give(rng) -> None:
    rgba = noise(rng, 2, 5, 6, 4)
    expected = torch.from_numpy(rgba[..., :3]).permute(0, 3, 1, 2)
    for array in (rgba, rgba.transpose(0, 3, 1, 2), torch.from_numpy(rgba)):
        with pytest.warns(UserWarning, match=r"^array: dropped the alpha channel of 2 images \(e.g. 0, 1\)$") as record:
            assert torch.equal(load_images(array).images, expected)
        assert len(record) == 1


def test_rgba_npy_names_the_file_in_its_warning(tmp_path, rng) -> None:
    rgba = noise(rng, 1, 5, 6, 4)
    np.save(tmp_path / "a.npy", rgba)
    with pytest.warns(UserWarning, match="a.npy: dropped the alpha channel of 1 image"):
        images = load_images(tmp_path / "a.npy")
    assert torch.equal(images.images[0], nchw(rgba[0, :, :, :3]))


def test_uint16_arrays_are_scaled_like_sixteen_bit_files(tmp_path) -> None:
    expected = torch.from_numpy(SIXTEEN_BIT_AS_8).expand(1, 3, 2, 4)
    rgb = np.repeat(SIXTEEN_BIT[None, :, :, None], 3, axis=3)
    np.save(tmp_path / "big_endian.npy", rgb.astype(">u2"))
    for source in (rgb, SIXTEEN_BIT[None, None], torch.from_numpy(rgb), tmp_path / "big_endian.npy"):
        assert torch.equal(load_images(source).images, expected)


def test_float_array_out_of_range_names_the_image() -> None:
    floats = np.zeros((3, 4, 4, 3), np.float32)
    floats[1, 0, 0, 0] = 1.5
    assert "array: float image 1 has values in [0.0, 1.5], expected [0, 1]" in load_error(floats)


def test_float_array_with_nan_is_refused() -> None:
    floats = np.zeros((1, 4, 4, 3), np.float32)
    floats[0, 1, 1, 1] = np.nan
    assert "float image 0" in load_error(floats)


def test_npz_without_arr_0_lists_the_keys(tmp_path) -> None:
    np.savez(tmp_path / "x.npz", images=np.zeros((1, 4, 4, 3), np.uint8), labels=np.zeros(1))
    expected = f"{tmp_path / 'x.npz'}: no arr_0 array in the .npz (keys found: images, labels)"
    assert load_error(tmp_path / "x.npz") == expected


@pytest.mark.parametrize(
    "array, match", [(np.zeros((2, 4, 4, 3), np.int16), "got dtype int16"), (np.zeros((8, 8), np.uint8), "got shape")]
)
def test_npz_with_wrong_dtype_or_shape_is_refused(tmp_path, array, match) -> None:
    np.savez(tmp_path / "x.npz", array)
    message = load_error(tmp_path / "x.npz")
    assert message.startswith(str(tmp_path / "x.npz")) and re.search(match, message)


def test_npz_with_truncated_arr_0_is_refused(tmp_path, rng) -> None:
    buffer = io.BytesIO()
    np.save(buffer, noise(rng, 4, 4, 4, 3))
    with zipfile.ZipFile(tmp_path / "x.npz", "w") as archive:
        archive.writestr("arr_0.npy", buffer.getvalue()[:-10])
    assert "arr_0's header claims shape (4, 4, 4, 3) (192 bytes), but the file holds 182 bytes" in load_error(
        tmp_path / "x.npz"
    )  # found from the header, before reading any image


def test_corrupt_npz_and_npy_are_refused(tmp_path) -> None:
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    (tmp_path / "x.npy").write_bytes(b"not an npy")
    assert "cannot read .npz" in load_error(tmp_path / "x.npz")
    assert "cannot read .npy" in load_error(tmp_path / "x.npy")


@pytest.mark.parametrize("fortran", [False, True])
def test_corrupt_compressed_npz_is_a_one_line_error_naming_the_file(tmp_path, rng, fortran) -> None:
    samples = noise(rng, 20, 16, 16, 3)
    np.savez_compressed(tmp_path / "x.npz", np.asfortranarray(samples) if fortran else samples)
    data = bytearray((tmp_path / "x.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF  # a byte inside the compressed arr_0.npy
    (tmp_path / "x.npz").write_bytes(bytes(data))
    assert load_error(tmp_path / "x.npz").startswith(f"{tmp_path / 'x.npz'}: cannot read .npz (")


def test_truncated_npy_is_a_one_line_error_naming_the_file(tmp_path, rng) -> None:
    np.save(tmp_path / "x.npy", noise(rng, 4, 8, 8, 3))
    truncated(tmp_path / "x.npy")
    assert load_error(tmp_path / "x.npy").startswith(f"{tmp_path / 'x.npy'}: cannot read .npy (")


def test_non_path_source_is_refused() -> None:
    assert "got list" in load_error([[1, 2]])


# -- size policy ----------------------------------------------------------------------


def test_differing_sizes_are_listed_with_files_and_a_hint(tmp_path, rng) -> None:
    for name in ["a.png", "b.png", "c.png"]:
        save(tmp_path / name, noise(rng, 32, 32, 3))
    save(tmp_path / "d.png", noise(rng, 64, 48, 3))
    assert load_error(tmp_path) == (
        f"{tmp_path}: images differ in size: 32x32 (3 files, e.g. a.png, b.png), 64x48 (1 file, e.g. d.png); "
        "crop them to one size with size=S or (H, W) (command line: --size S or HxW)"
    )


def test_center_crop_takes_the_central_window(tmp_path, rng) -> None:
    big, odd = noise(rng, 20, 15, 3), noise(rng, 9, 8, 3)
    save(tmp_path / "big.png", big)
    save(tmp_path / "odd.png", odd)
    images = load_images(tmp_path, size=(6, 4))
    assert torch.equal(images.images[0], nchw(big[7:13, 5:9]))
    assert torch.equal(images.images[1], nchw(odd[1:7, 2:6]))


def test_random_crop_is_a_window_fixed_by_seed(tmp_path, rng) -> None:
    sources = {f"{i}.png": noise(rng, 40, 40, 3) for i in range(4)}
    for name, pixels in sources.items():
        save(tmp_path / name, pixels)
    first = load_images(tmp_path, size=16, crop="random", seed=3)
    assert torch.equal(first.images, load_images(tmp_path, size=16, crop="random", seed=3).images)
    assert not torch.equal(first.images, load_images(tmp_path, size=16, crop="random", seed=4).images)
    for name, crop in zip(first.names, first.images):
        windows = np.lib.stride_tricks.sliding_window_view(sources[name], (16, 16, 3)).reshape(-1, 16, 16, 3)
        assert any(np.array_equal(window, crop.permute(1, 2, 0).numpy()) for window in windows)


def test_random_crop_depends_on_the_file_name_not_the_folder(tmp_path, rng) -> None:
    pixels = noise(rng, 40, 40, 3)
    for folder, other in (("real", "b.png"), ("fake", "c/d.png")):
        save(tmp_path / folder / "a.png", pixels)
        save(tmp_path / folder / other, noise(rng, 40, 40, 3))
    real, fake = (load_images(tmp_path / folder, size=16, crop="random", seed=3) for folder in ("real", "fake"))
    assert real.names[0] == fake.names[0] == "a.png" and torch.equal(real.images[0], fake.images[0])
    renamed = save(tmp_path / "renamed" / "z.png", pixels)
    assert not torch.equal(load_images(renamed, size=16, crop="random", seed=3).images[0], real.images[0])


def test_arrays_are_copied_a_chunk_at_a_time_unless_each_image_has_its_own_window(rng, monkeypatch) -> None:
    nhwc = noise(rng, 300, 8, 10, 3)
    calls = []
    fit = SizePolicy.fit

    def counted_fit(self: SizePolicy, image: np.ndarray, name: str) -> np.ndarray:
        calls.append(name)
        return fit(self, image, name)

    monkeypatch.setattr(SizePolicy, "fit", counted_fit)
    assert torch.equal(load_images(nhwc).images, torch.from_numpy(nhwc).permute(0, 3, 1, 2))
    assert torch.equal(load_images(nhwc, size=(4, 6)).images, torch.from_numpy(nhwc[:, 2:6, 2:8]).permute(0, 3, 1, 2))
    assert calls == []
    load_images(nhwc, size=4, crop="random")
    assert len(calls) == 300


def test_resize_averages_areas_exactly(tmp_path, rng) -> None:
    means = rng.integers(3, 252, (32, 32, 3))
    offsets = -np.ones((4, 4), dtype=np.int64)
    offsets[1:3, 1:3] = 3  # each 4x4 block averages to its mean, its central 2x2 (what bilinear sees) does not
    blocks = np.kron(means, np.ones((4, 4, 1), dtype=np.int64)) + np.tile(offsets, (32, 32))[:, :, None]
    save(tmp_path / "blocks.png", blocks.astype(np.uint8))
    assert torch.equal(load_images(tmp_path, size=32, crop="resize").images[0], nchw(means.astype(np.uint8)))


def test_resize_shrinks_the_short_side_then_center_crops(tmp_path, rng) -> None:
    means = rng.integers(0, 256, (16, 24, 3)).astype(np.uint8)
    save(tmp_path / "wide.png", np.kron(means, np.ones((2, 2, 1), dtype=np.uint8)))
    assert torch.equal(load_images(tmp_path, size=16, crop="resize").images[0], nchw(means[:, 4:20]))


@pytest.mark.parametrize("crop", ["center", "random", "resize"])
def test_image_smaller_than_size_is_an_error_naming_the_file(tmp_path, rng, crop) -> None:
    save(tmp_path / "ok.png", noise(rng, 40, 40, 3))
    save(tmp_path / "small.png", noise(rng, 20, 30, 3))
    message = load_error(tmp_path, size=32, crop=crop)
    assert message.startswith(f"{tmp_path}: small.png is 20x30, smaller than size 32x32")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"size": 8, "crop": "bilinear"}, "crop must be one of"),
        ({"size": 0}, "size must be a positive int"),
        ({"size": (8, 8, 8)}, "size must be a positive int"),
        ({"size": True}, "size must be a positive int"),
        ({"size": (8, True)}, "size must be a positive int"),
        ({"size": 8.0}, "size must be a positive int"),
        ({"size": "8"}, "size must be a positive int"),
        ({"on_error": "ignore"}, "on_error must be one of"),
        ({"workers": 0}, "workers must be a positive int"),
        ({"seed": "a"}, "seed must be an int"),
        ({"cache": 123}, "cache must be a folder path"),
    ],
)
def test_bad_arguments_are_refused(rng, kwargs, match) -> None:
    assert re.search(match, load_error(noise(rng, 1, 8, 8, 3), **kwargs))


def test_numpy_integer_sizes_are_accepted(rng) -> None:
    assert load_images(noise(rng, 1, 8, 8, 3), size=np.int64(4)).size == (4, 4)
    assert load_images(noise(rng, 1, 8, 8, 3), size=np.array([4, 6])).size == (4, 6)


# -- bad files ----------------------------------------------------------------------


def test_missing_path_is_an_error(tmp_path) -> None:
    assert load_error(tmp_path / "nowhere") == f"{tmp_path / 'nowhere'}: no such file or folder"


def test_empty_folder_is_an_error(tmp_path) -> None:
    assert load_error(tmp_path) == f"{tmp_path}: folder is empty"


def test_folder_without_images_names_the_supported_types(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.gif").write_bytes(b"GIF89a")
    assert load_error(tmp_path) == (
        f"{tmp_path}: no image files (found .gif, .txt; supported: .bmp, .jpeg, .jpg, .png, .tif, .tiff, .webp)"
    )


def test_unsupported_file_type_is_an_error(tmp_path) -> None:
    (tmp_path / "a.gif").write_bytes(b"GIF89a")
    assert "a.gif: unsupported file type" in load_error(tmp_path / "a.gif")


def test_corrupt_file_is_named(tmp_path, rng) -> None:
    save(tmp_path / "good.png", noise(rng, 4, 4, 3))
    (tmp_path / "bad.png").write_bytes(b"\x89PNG but not really")
    assert load_error(tmp_path).startswith(f"{tmp_path / 'bad.png'}: cannot read image (UnidentifiedImageError")


@pytest.mark.parametrize("name", ["t.png", "t.jpg"])
def test_truncated_file_is_named(tmp_path, rng, name) -> None:
    truncated(save(tmp_path / name, noise(rng, 64, 64, 3)))
    assert load_error(tmp_path).startswith(f"{tmp_path / name}: cannot read image")


@pytest.mark.parametrize("side", [12, 16])  # 144 > limit (PIL only warns); 256 > 2 * limit (PIL raises)
def test_decompression_bomb_is_an_error(tmp_path, rng, monkeypatch, side) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    save(tmp_path / "bomb.png", noise(rng, side, side, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        message = load_error(tmp_path)
    assert message.startswith(f"{tmp_path / 'bomb.png'}: more pixels than PIL.Image.MAX_IMAGE_PIXELS (100)")


def test_skip_leaves_out_unreadable_files_and_counts_them(tmp_path, rng) -> None:
    good = {f"{i}.png": noise(rng, 32, 32, 3) for i in (1, 3, 5)}
    for name, pixels in good.items():
        save(tmp_path / name, pixels)
    (tmp_path / "2.png").write_bytes(b"garbage")
    truncated(save(tmp_path / "4.png", noise(rng, 32, 32, 3)))
    with pytest.warns(UserWarning, match="skipped 2 unreadable files") as record:
        images = load_images(tmp_path, on_error="skip")
    assert len(record) == 1 and "2.png" in str(record[0].message) and "4.png" in str(record[0].message)
    assert images.names == list(good)
    assert torch.equal(images.images, torch.stack([nchw(p) for p in good.values()]))


def test_skip_with_nothing_left_is_an_error(tmp_path, rng) -> None:
    (tmp_path / "a.png").write_bytes(b"garbage")
    truncated(save(tmp_path / "b.png", noise(rng, 32, 32, 3)))
    assert "no readable images (1 skipped" in load_error(tmp_path / "a.png", on_error="skip")
    assert "no readable images (2 skipped" in load_error(tmp_path, on_error="skip")


# -- cache ------------------------------------------------------------------------------


def mapped_file(address: int) -> str | None:
    """The file backing ``address`` in this process (Linux), or None."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        if low <= address < high:
            return fields[5] if len(fields) > 5 else None
    return None


def refuse_decoding(monkeypatch) -> None:
    def fail(path):
        raise AssertionError(f"decoded {path} despite the cache")

    monkeypatch.setattr(decode, "decode_image", fail)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc/self/maps")
def test_second_load_comes_memory_mapped_from_the_cache(tmp_path, rng, monkeypatch) -> None:
    for i in range(3):
        save(tmp_path / "src" / f"{i}.png", noise(rng, 20, 20, 3))
    settings = {"size": 16, "crop": "random", "cache": tmp_path / "cache"}
    first = load_images(tmp_path / "src", **settings)
    refuse_decoding(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch must not warn about a read-only array
        second = load_images(tmp_path / "src", **settings)
    assert torch.equal(first.images, second.images) and first.names == second.names
    (entry,) = (tmp_path / "cache").glob("*.npy")
    assert mapped_file(second.images.data_ptr()) == str(entry)
    second.images[0, 0, 0, 0] += 1  # copy-on-write: the cache file keeps its pixels
    assert torch.equal(load_images(tmp_path / "src", **settings).images, first.images)


def test_cache_key_covers_the_size_policy(tmp_path, rng, monkeypatch) -> None:
    save(tmp_path / "src" / "a.png", noise(rng, 20, 20, 3))
    load_images(tmp_path / "src", size=16, cache=tmp_path / "cache")
    for kwargs in ({"size": 8}, {"size": 16, "crop": "random"}, {"size": 16, "crop": "random", "seed": 1}):
        load_images(tmp_path / "src", cache=tmp_path / "cache", **kwargs)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 4


def test_cache_key_covers_the_opencv_version(tmp_path, rng, monkeypatch) -> None:
    save(tmp_path / "src" / "a.png", noise(rng, 20, 20, 3))
    load_images(tmp_path / "src", size=16, crop="resize", cache=tmp_path / "cache")
    monkeypatch.setattr(cv2, "__version__", "0.0.0")
    load_images(tmp_path / "src", size=16, crop="resize", cache=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2


def test_changed_file_invalidates_the_cache(tmp_path, rng) -> None:
    path = save(tmp_path / "src" / "a.png", noise(rng, 8, 8, 3))
    load_images(tmp_path / "src", cache=tmp_path / "cache")
    changed = noise(rng, 8, 8, 3)
    save(path, changed)
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse-grained file systems
    assert torch.equal(load_images(tmp_path / "src", cache=tmp_path / "cache").images[0], nchw(changed))


def test_cache_hit_repeats_the_warnings_and_drops_skipped_rows(tmp_path, rng, monkeypatch) -> None:
    save(tmp_path / "src" / "a.png", noise(rng, 16, 16, 4))
    truncated(save(tmp_path / "src" / "b.png", noise(rng, 16, 16, 3)))
    save(tmp_path / "src" / "c.png", noise(rng, 16, 16, 3))
    with pytest.warns(UserWarning) as first_warnings:
        first = load_images(tmp_path / "src", cache=tmp_path / "cache", on_error="skip")
    refuse_decoding(monkeypatch)
    with pytest.warns(UserWarning) as second_warnings:
        second = load_images(tmp_path / "src", cache=tmp_path / "cache", on_error="skip")
    assert second.names == first.names == ["a.png", "c.png"] and torch.equal(second.images, first.images)
    assert [str(w.message) for w in second_warnings] == [str(w.message) for w in first_warnings]


def test_failed_load_leaves_no_cache_files(tmp_path, rng, monkeypatch) -> None:
    for i in range(4):
        save(tmp_path / "src" / f"{i}.png", noise(rng, 8, 8, 3))
    real_decode = decode.decode_image

    def fail_on_the_third(path):
        if path.name == "2.png":
            raise DataError(f"{path}: simulated failure")
        return real_decode(path)

    monkeypatch.setattr(decode, "decode_image", fail_on_the_third)
    assert "simulated failure" in load_error(tmp_path / "src", cache=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_float_round_off_is_clipped_but_nan_and_real_overshoot_are_refused() -> None:
    images = np.full((2, 8, 8, 3), 1.0000001, dtype=np.float32)
    images[1] = -1e-7
    loaded = load_images(images).images
    assert loaded[0].min() == 255 and loaded[1].max() == 0
    images[1, 0, 0, 0] = np.nan
    assert re.search(r"float image 1 contains NaN", load_error(images))
    assert re.search(r"float image 0 has values in \[1.1", load_error(np.full((1, 8, 8, 3), 1.1, np.float32)))


def test_a_3d_array_led_by_3_channels_warns_that_it_may_be_one_chw_image() -> None:
    with pytest.warns(UserWarning, match=r"read as 3 grayscale H×W images; for one C×H×W image add a batch axis"):
        assert len(load_images(np.zeros((3, 16, 16), np.uint8))) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_images(np.zeros((5, 16, 16), np.uint8))) == 5  # a stack of grayscale images


def test_a_folder_named_like_an_array_file_is_read_as_a_folder(tmp_path, rng) -> None:
    folder = tmp_path / "samples.npz"
    folder.mkdir()
    Image.fromarray(noise(rng, 1, 8, 8, 3)[0]).save(folder / "a.png")
    assert len(load_images(folder)) == 1
