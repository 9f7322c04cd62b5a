"""Images/s of each filter-bank transform, batched, against a per-image NumPy/SciPy loop.

    python benchmarks/bench_transforms.py [--n 64] [--size 256] [--device auto]

Both run in this process on the same images. The baseline is what one would write first:
a Python loop over images calling numpy.fft / scipy / pywt / OpenCV / PIL. On CUDA the
script also prints the achieved memory bandwidth of the Fourier masks (bytes of the float32
input read plus output written, per second).
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

import cv2
import numpy as np
import pywt
import scipy.fft
import scipy.ndimage
import torch
from PIL import Image

import freqprobe as fp
from freqprobe.device import resolve_device


def radius(height: int, width: int) -> np.ndarray:
    return np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])


def per_image(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], list[np.ndarray]]:
    return lambda batch: [fn(image) for image in batch]


def fourier_gain(gain: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: np.fft.ifft2(np.fft.fft2(image) * gain).real


def phase_only(image: np.ndarray) -> np.ndarray:
    spectrum = np.fft.fft2(image)
    return np.fft.ifft2(spectrum / np.maximum(np.abs(spectrum), 1e-12)).real


def amplitude_only(image: np.ndarray) -> np.ndarray:
    return np.fft.ifft2(np.abs(np.fft.fft2(image))).real


def phase_noise(rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    def noisy(image: np.ndarray) -> np.ndarray:
        h, w = image.shape[-2:]
        shift = rng.uniform(-np.pi / 2, np.pi / 2, (h, w))
        shift = (shift - np.roll(shift[::-1, ::-1], (1, 1), axis=(0, 1))) / 2  # odd-symmetric
        return np.fft.ifft2(np.fft.fft2(image) * np.exp(1j * shift)).real

    return noisy


def power_equalize(mean_amplitude: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def equalize(image: np.ndarray) -> np.ndarray:
        spectrum = np.fft.fft2(image)
        return np.fft.ifft2(mean_amplitude * spectrum / np.maximum(np.abs(spectrum), 1e-12)).real

    return equalize


def wavelet_drop_hh(image: np.ndarray) -> np.ndarray:
    approx, (ch, cv, cd) = pywt.wavedec2(image, "db2", level=1, axes=(-2, -1))
    return pywt.waverec2([approx, (ch, cv, np.zeros_like(cd))], "db2", axes=(-2, -1))


def wavelet_keep_ll(image: np.ndarray) -> np.ndarray:
    coeffs = pywt.wavedec2(image, "db2", level=2, axes=(-2, -1))
    coeffs = [coeffs[0]] + [tuple(np.zeros_like(d) for d in level) for level in coeffs[1:]]
    return pywt.waverec2(coeffs, "db2", axes=(-2, -1))


def dct_band(low: bool) -> Callable[[np.ndarray], np.ndarray]:
    u, v = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    keep = ((u + v) < 4) if low else ((u + v) >= 4)

    def band(image: np.ndarray) -> np.ndarray:
        c, h, w = image.shape
        coeffs = scipy.fft.dctn(image.reshape(c, h // 8, 8, w // 8, 8), axes=(2, 4), norm="ortho")
        return scipy.fft.idctn(coeffs * keep[None, None, :, None, :], axes=(2, 4), norm="ortho").reshape(c, h, w)

    return band


def luminance_u8(image: np.ndarray) -> np.ndarray:
    gray = 0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]
    return np.clip(gray * 255, 0, 255).astype(np.uint8)


def sobel(image: np.ndarray) -> np.ndarray:
    gray = luminance_u8(image).astype(np.float32) / 255
    return np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))


def canny(image: np.ndarray) -> np.ndarray:
    return cv2.Canny(cv2.GaussianBlur(luminance_u8(image), (5, 5), 1.0), 25, 50)


def patch_shuffle(rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    def shuffle(image: np.ndarray) -> np.ndarray:
        c, h, w = image.shape
        patches = image.reshape(c, 8, h // 8, 8, w // 8).transpose(1, 3, 0, 2, 4).reshape(64, c, h // 8, w // 8)
        patches = patches[rng.permutation(64)].reshape(8, 8, c, h // 8, w // 8)
        return patches.transpose(2, 0, 3, 1, 4).reshape(c, h, w)

    return shuffle


def jpeg(image: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0)).save(
        buffer, format="JPEG", quality=75
    )
    return np.asarray(Image.open(buffer)).transpose(2, 0, 1) / 255.0


def cases(size: int, batch: np.ndarray) -> list[tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    r = radius(size, size)
    fy, fx = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    angle = np.round(np.degrees(np.arctan2(fy, fx)) % 180, 6) % 180
    rng = np.random.default_rng(0)
    mean_amplitude = np.abs(np.fft.fft2(batch)).mean(axis=0)
    return [
        ("lowpass:0.15", fourier_gain((r <= 0.15).astype(float))),
        ("highpass:0.15,window=gaussian", fourier_gain(1 - np.exp(-(r**2) / (2 * 0.15**2)))),
        ("bandpass:0.1,0.3,window=butterworth", fourier_gain(1 / (1 + (r / 0.3) ** 4) - 1 / (1 + (r / 0.1) ** 4))),
        ("highpass:0.05,angle=60,120", fourier_gain(((r > 0.05) & (angle >= 60) & (angle < 120)).astype(float))),
        ("phase_only", phase_only),
        ("amplitude_only", amplitude_only),
        ("phase_noise:90", phase_noise(rng)),
        ("power_equalize", power_equalize(mean_amplitude)),
        ("wavelet:db2,level=2,keep=LL", wavelet_keep_ll),
        ("wavelet:db2,drop=HH", wavelet_drop_hh),
        ("dct:keep=LOW", dct_band(low=True)),
        ("dct:keep=HIGH", dct_band(low=False)),
        ("edges:sobel", sobel),
        ("edges:canny", canny),
        ("patchshuffle:8", patch_shuffle(rng)),
        ("blur:2", lambda image: scipy.ndimage.gaussian_filter(image, sigma=(0, 2, 2), mode="mirror", truncate=4.0)),
        ("grayscale", lambda image: np.repeat((0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2])[None], 3, 0)),
        ("noise:0.05", lambda image: image + rng.normal(0, 0.05, image.shape)),
        ("jpeg:75", jpeg),
    ]


def best_time(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    fn()  # warm-up (mask caches, kernels)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=64, help="images per batch")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = resolve_device(args.device)
    images = fp.demo_sets(n=args.n, size=args.size)[0]
    x = images.float(device)
    batch = images.float("cpu").double().numpy()
    print(f"{args.n} images of {args.size}x{args.size}, device {device}, torch threads {torch.get_num_threads()}")
    print(f"{'transform':<38}{'freqprobe img/s':>16}{'numpy loop img/s':>18}{'ratio':>8}")
    for spec, baseline in cases(args.size, batch):
        transform = fp.transform(spec).fit(x)  # power_equalize learns the batch's mean amplitude
        ours = best_time(lambda: transform(x), device, args.repeats)
        theirs = best_time(lambda: per_image(baseline)(batch), torch.device("cpu"), args.repeats)
        line = f"{spec:<38}{args.n / ours:>16.0f}{args.n / theirs:>18.0f}{theirs / ours:>7.1f}x"
        if device.type == "cuda" and spec.split(":")[0] in ("lowpass", "highpass", "bandpass"):
            line += f"   {2 * x.numel() * 4 / ours / 1e9:.0f} GB/s"
        print(line, flush=True)


if __name__ == "__main__":
    main()
