"""The distortions of the model-vs-human benchmark, batched, and the sweep of conditions.

The definitions follow the stimulus code of Geirhos et al. (NeurIPS 2018,
``rgeirhos/generalisation-humans-DNNs``, ``code/image_manipulation.py``), which made the
model-vs-human noise-generalisation datasets. Every distortion takes float images
``(N, 3, H, W)`` in [0, 1] and returns images in [0, 1] (clipped, as the stimulus files
were). All but ``colour`` and ``false-colour`` work on the grey image (skimage's
``rgb2gray`` luminance ``0.2125 R + 0.7154 G + 0.0721 B``, replicated to 3 channels):

- ``colour``: ``cr`` keeps the colour image, ``bw`` is its grey version;
- ``contrast`` (percent ``c``): ``(1 - c) / 2 + c * grey``;
- ``low-pass`` (sigma, pixels): Gaussian blur, the border padded with the stimuli's mean
  grey 0.4423 (``scipy.ndimage.gaussian_filter(mode="constant")``, truncated at 4 sigma);
- ``high-pass`` (sigma, pixels): ``grey - low-pass``, shifted so its mean is 0.4423
  (``inf``: no filtering, only the shift);
- ``phase-scrambling`` (degrees): a uniform phase shift in ``[-w, w]`` added to every
  frequency (odd-symmetric, so the image stays real; the original also leaves the Nyquist
  row and column alone, and draws unseeded);
- ``power-equalisation``: ``pow`` gives every image the set's mean amplitude spectrum
  (fitted on the probed set), keeping its phase;
- ``uniform-noise`` (width ``w``): grey at 30 % contrast plus uniform noise in ``[-w, w]``;
- ``rotation`` (0, 90, 180, 270 degrees, counter-clockwise as ``np.rot90``);
- ``false-colour``: ``False`` flips both opponent-colour axes (L-M and S-(L+M)) in the DKL
  space of the original code, keeping luminance, on the monitor's light output: 8-bit
  values go through a monitor gamma table and come back through it (nearest entry), as the
  original ``false_colour`` does; the table is the user's (``monitor_gamma``), by default
  the sRGB curve (``gamma.py``; the original used its lab's measured table);
- ``eidolonI``, ``eidolonII``, ``eidolonIII`` (reach, labels ``R-10-10``, ``R-3-10``,
  ``R-0-10``): grey, Koenderink et al.'s partially coherent disarray at coherence 1.0, 0.3
  and 0.0 and grain 10 (``eidolons.py``).

Random distortions draw per image from ``(seed, image index)``, so results do not depend
on the batch size.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import FreqprobeError
from ..transforms import REGISTRY, Compose, Transform, transform
from ..transforms.base import iter_batches
from ..transforms.keyed_random import keyed_uniform
from ..transforms.phase import PowerEqualize, odd_symmetric_phase
from ..transforms.spatial import BLUR_TRUNCATE, gaussian_kernel
from .eidolons import partially_coherent_disarray
from .gamma import GammaSource, gamma_table
from ..suggest import did_you_mean

#: skimage ``rgb2gray`` weights (ITU-R BT.709 luminance), as the original stimulus code.
LUMINANCE = (0.2125, 0.7154, 0.0721)
#: Mean pixel value of the stimuli: the blur's border value and the high-pass mean.
BACKGROUND_GREY = 0.4423
#: Contrast of the grey image under uniform noise.
NOISE_CONTRAST = 0.3
#: Cone sensitivities (rows L, M, S) to the monitor's R, G, B, and the white point.
CONES = ((0.1619982647, 0.208049264, 0.0389347448),
         (0.0330275785, 0.2496504557, 0.0618343518),
         (0.0015524055, 0.0198861001, 0.1890224274))  # fmt: skip
CONES_WHITE = (0.20449114, 0.17225619, 0.10523047)
#: The eidolon sets of model-vs-human: name -> coherence; their grain, in pixels.
EIDOLON_COHERENCE = {"eidolonI": 1.0, "eidolonII": 0.3, "eidolonIII": 0.0}
EIDOLON_GRAIN = 10.0
#: Cone contrasts to the DKL axes (luminance, L-M, S-(L+M)), after Brainard (1996).
DKL = ((9.27590805, 9.27590805, 0.0),
       (7.86421647, -9.33587662, 0.0),
       (-3.39709047, -3.39709047, 12.16230246))  # fmt: skip


# -- the distortion functions --------------------------------------------------------------
def grey(x: Tensor) -> Tensor:
    """The luminance of ``(N, 3, H, W)`` replicated to 3 channels."""
    weights = torch.tensor(LUMINANCE, device=x.device, dtype=x.dtype)
    return torch.einsum("nchw,c->nhw", x, weights)[:, None].expand(-1, 3, -1, -1)


def adjust_contrast(x: Tensor, percent: float) -> Tensor:
    c = percent / 100
    return (1 - c) / 2 + c * grey(x)


def blur_grey_border(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur, the border padded with ``BACKGROUND_GREY``."""
    radius = int(BLUR_TRUNCATE * sigma + 0.5)
    kernel = gaussian_kernel(sigma, radius).to(device=x.device, dtype=x.dtype)
    n, c, h, w = x.shape
    flat = F.pad(x.reshape(n * c, 1, h, w), (radius,) * 4, value=BACKGROUND_GREY)
    flat = F.conv2d(F.conv2d(flat, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1))
    return flat.reshape(n, c, h, w)


def low_pass(x: Tensor, sigma: float) -> Tensor:
    g = grey(x)
    return g if sigma == 0 else blur_grey_border(g, sigma).clamp(0, 1)


def high_pass(x: Tensor, sigma: float) -> Tensor:
    g = grey(x)
    detail = g - BACKGROUND_GREY if math.isinf(sigma) else g - blur_grey_border(g, sigma)
    return (detail - detail.mean(dim=(-2, -1), keepdim=True) + BACKGROUND_GREY).clamp(0, 1)


def phase_scrambling(x: Tensor, degrees: float, index: Tensor, seed: int) -> Tensor:
    g = grey(x)[:, :1]
    height, width = g.shape[-2:]
    if degrees > 0:
        shift = odd_symmetric_phase(degrees, seed, index, height, width)[:, None, :, : width // 2 + 1]
        phasor = torch.polar(torch.ones_like(shift), shift)
        g = torch.fft.irfft2(torch.fft.rfft2(g) * phasor, s=(height, width)).clamp(0, 1)
    return g.expand(-1, 3, -1, -1)


def uniform_noise(x: Tensor, width: float, index: Tensor, seed: int) -> Tensor:
    u = keyed_uniform(seed, index, (1, *x.shape[-2:]), "uniform-noise").to(x.dtype)
    return (adjust_contrast(x, 100 * NOISE_CONTRAST) + width * (2 * u - 1)).clamp(0, 1)


def rotation(x: Tensor, degrees: float) -> Tensor:
    return torch.rot90(grey(x), int(degrees) // 90, dims=(-2, -1))


def opponent_colours(x: Tensor) -> Tensor:
    """Flip the L-M and S-(L+M) axes of DKL space around the white point (luminance stays).

    In cone space the flip is ``mix = DKL^-1 diag(1, -1, -1) DKL``, so RGB maps affinely:
    ``rgb' = C^-1 mix C rgb + C^-1 (w - mix w)``; the map is its own inverse.
    """
    cones = torch.tensor(CONES, dtype=torch.float64)
    dkl = torch.tensor(DKL, dtype=torch.float64)
    white = torch.tensor(CONES_WHITE, dtype=torch.float64)
    mix = torch.linalg.inv(dkl) @ torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)) @ dkl
    matrix = torch.linalg.inv(cones) @ mix @ cones
    offset = torch.linalg.inv(cones) @ (white - mix @ white)
    out = torch.einsum("ij,njhw->nihw", matrix.to(x), x) + offset.to(x)[None, :, None, None]
    return out.clamp(0, 1)


def false_colour(x: Tensor, gamma: GammaSource = None) -> Tensor:
    """``opponent_colours`` on the monitor's light output: the 8-bit values (``x`` is
    rounded to k/255) through the gamma table (``gamma.gamma_table`` of ``gamma``: by
    default sRGB), the flip, then back to the 8-bit value of the nearest table entry
    (values outside [0, 1] clipped first), as ``false_colour`` of the original code; the
    result is a multiple of 1/255."""
    table = torch.as_tensor(gamma_table(gamma), dtype=torch.float64, device=x.device)
    light = table[(x.double() * 255).round().clamp(0, 255).long()]
    flipped = opponent_colours(light).clamp(0, 1)  # the original clips before its look-up
    midpoints = (table[1:] + table[:-1]) / 2
    return (torch.searchsorted(midpoints, flipped.contiguous()) / 255).to(x.dtype)


def eidolon(x: Tensor, reach: float, coherence: float, index: Tensor, seed: int) -> Tensor:
    """Grey, partially coherent disarray at ``reach`` (grain ``EIDOLON_GRAIN``), clipped."""
    out = partially_coherent_disarray(grey(x)[:, 0], reach, coherence, EIDOLON_GRAIN, index, seed)
    return out.clamp(0, 1)[:, None].expand(-1, 3, -1, -1)


# -- distortion kinds: levels, labels and checks ----------------------------------------------
@dataclasses.dataclass(frozen=True)
class Distortion:
    """One model-vs-human distortion: its function, preset levels and condition labels."""

    name: str
    summary: str
    xlabel: str
    preset: tuple[str, ...]  #: the benchmark's conditions, as its raw data spells them
    apply: Callable[[Tensor, float, Tensor, int], Tensor]
    named: dict[str, float] = dataclasses.field(default_factory=dict)  #: labels that are not numbers
    valid: Callable[[float], bool] = lambda level: level >= 0
    prefix: str = ""  #: contrast conditions are spelled "c50", "c05"
    suffix: str = ""  #: eidolon conditions are spelled "8-10-10" (reach 8)

    def parse(self, text: str) -> float:
        """The numeric level of a condition label (``"c05"``, ``"inf"``, ``"pow"``, ``"90"``)."""
        text = text.strip()
        if text in self.named:
            return self.named[text]
        try:
            level = float(text.removeprefix(self.prefix).removesuffix(self.suffix))
        except ValueError:
            level = math.nan
        if math.isnan(level) or not self.valid(level) or (self.named and level not in self.named.values()):
            allowed = ", ".join(self.preset)
            raise FreqprobeError(f"{self.name}: level {text!r} is not valid; the benchmark's are {allowed}")
        return level

    def label(self, level: float) -> str:
        """The condition label of a level, spelled as the benchmark's raw data spells it."""
        for text, value in self.named.items():
            if value == level:
                return text
        if self.prefix:
            return f"{self.prefix}{level:02g}" if level >= 1 else f"{self.prefix}{level:g}"
        if self.suffix:
            return f"{level:g}{self.suffix}"
        return f"{level:g}" if self.integer_labels else str(float(level))

    @property
    def integer_labels(self) -> bool:
        return all("." not in text for text in self.preset)

    @property
    def descending(self) -> bool:
        """Whether the distortion grows as the level falls (contrast, high-pass)."""
        levels = [self.parse(text) for text in self.preset]
        return levels[0] > levels[-1]


def _binary(distorted: Callable[[Tensor], Tensor]) -> Callable[[Tensor, float, Tensor, int], Tensor]:
    return lambda x, level, index, seed: distorted(x) if level else x


def _eidolon_set(name: str, coherence: float) -> Distortion:
    suffix = f"-{round(10 * coherence)}-{EIDOLON_GRAIN:g}"
    return Distortion(name, f"grey, eidolon: partially coherent disarray (coherence {coherence:g}, grain "
                      f"{EIDOLON_GRAIN:g}) at reach R", "Reach-coherence x 10-grain (reach doubles per step)",
                      tuple(f"{2**k}{suffix}" for k in range(8)),
                      lambda x, level, index, seed: eidolon(x, level, coherence, index, seed),
                      valid=lambda level: 0 <= level < math.inf, suffix=suffix)  # fmt: skip


DISTORTIONS: dict[str, Distortion] = {
    d.name: d
    for d in (
        Distortion("colour", "colour (cr) or greyscale (bw)", "Colour", ("cr", "bw"),
                   _binary(grey), named={"cr": 0.0, "bw": 1.0}),
        Distortion("contrast", "grey, contrast reduced to c percent around mid-grey", "Contrast in percent",
                   ("c100", "c50", "c30", "c15", "c10", "c05", "c03", "c01"),
                   lambda x, level, index, seed: adjust_contrast(x, level),
                   valid=lambda level: 0 <= level <= 100, prefix="c"),
        Distortion("high-pass", "grey minus its Gaussian blur (sigma px), mean set to 0.4423",
                   "Filter standard deviation",
                   ("inf", "3.0", "1.5", "1.0", "0.7", "0.55", "0.45", "0.4"),
                   lambda x, level, index, seed: high_pass(x, level), valid=lambda level: level > 0),
        Distortion("low-pass", "grey, Gaussian blur of sigma px (mean-grey border)", "Filter standard deviation",
                   ("0", "1", "3", "5", "7", "10", "15", "40"),
                   lambda x, level, index, seed: low_pass(x, level), valid=lambda level: 0 <= level < math.inf),
        Distortion("phase-scrambling", "grey, uniform phase noise in [-w, w] degrees", "Phase noise width [deg]",
                   ("0", "30", "60", "90", "120", "150", "180"), phase_scrambling,
                   valid=lambda level: 0 <= level <= 180),
        Distortion("power-equalisation", "grey; pow: the set's mean amplitude spectrum, own phase", "Power spectrum",
                   ("0", "pow"), lambda x, level, index, seed: grey(x), named={"0": 0.0, "pow": 1.0}),
        Distortion("false-colour", "True: colour as is; False: opponent colours (DKL axes flipped on the monitor's "
                   "light output: --monitor-gamma table, default sRGB)",
                   "Colour", ("True", "False"), _binary(false_colour), named={"True": 0.0, "False": 1.0}),
        Distortion("rotation", "grey, rotated counter-clockwise by 0, 90, 180 or 270 degrees", "Rotation angle [deg]",
                   ("0", "90", "180", "270"), lambda x, level, index, seed: rotation(x, level),
                   valid=lambda level: level in (0, 90, 180, 270)),
        Distortion("uniform-noise", "grey at 30% contrast plus uniform noise in [-w, w]", "Uniform noise width",
                   ("0.0", "0.03", "0.05", "0.1", "0.2", "0.35", "0.6", "0.9"), uniform_noise,
                   valid=lambda level: 0 <= level < math.inf),
        *(_eidolon_set(name, coherence) for name, coherence in EIDOLON_COHERENCE.items()),
    )
}  # fmt: skip

#: Named sweeps: each entry is a ``--distortions`` item.
PRESETS: dict[str, tuple[str, ...]] = {"model-vs-human": tuple(DISTORTIONS)}


# -- conditions: one distortion at one level -------------------------------------------------
@dataclasses.dataclass
class Condition:
    """One distortion at one level: a function of ``(x, index)`` on float batches.

    ``label`` is the condition as trial tables spell it; ``level`` its number (x axis).
    Filter-bank specs are applied as ``fp.ablate`` applies them (not clipped).
    """

    distortion: str
    level: float
    label: str
    function: Callable[[Tensor, Tensor], Tensor]
    fitter: Transform | None = None  #: a transform to fit on the set before use
    fit_on_grey: bool = False

    def fit(self, images: Any) -> None:
        if self.fitter is not None:
            source = ((index, grey(x)) for index, x in iter_batches(images)) if self.fit_on_grey else images
            self.fitter.fit(source)

    def __call__(self, x: Tensor, index: Tensor) -> Tensor:
        return self.function(x, index)


def _benchmark_condition(distortion: Distortion, level: float, seed: int, gamma: GammaSource) -> Condition:
    if distortion.name == "power-equalisation" and level:
        equalise = PowerEqualize()
        return Condition(distortion.name, level, distortion.label(level),
                         lambda x, index: equalise.apply(grey(x), index).clamp(0, 1),
                         fitter=equalise, fit_on_grey=True)  # fmt: skip
    if distortion.name == "false-colour" and level:
        return Condition(distortion.name, level, distortion.label(level), lambda x, index: false_colour(x, gamma))
    return Condition(distortion.name, level, distortion.label(level),
                     lambda x, index: distortion.apply(x, level, index, seed))  # fmt: skip


def filter_bank_condition(spec: str) -> Condition:
    """A filter-bank spec. Its first argument, when a number, is the level, and the spec
    without it names the curve (``lowpass:0.1,window=gaussian`` -> ``lowpass:window=gaussian``
    at 0.1); otherwise the spec is a curve of its own, at level 0."""
    t = transform(spec)
    fitter = t if t.needs_fit else None
    first = getattr(t, t.positional[0]) if not isinstance(t, Compose) and t.positional else None
    if not isinstance(first, (int, float)):
        return Condition(str(t), 0.0, str(t), t, fitter)
    others = str(t).partition(":")[2].split(",")[1:]
    curve = t.name + (":" + ",".join(others) if others else "")
    return Condition(curve, float(first), str(t), t, fitter)


def parse_conditions(
    distortions: str | Sequence[str] | None = None,
    preset: str | None = None,
    seed: int = 0,
    monitor_gamma: GammaSource = None,
) -> list[Condition]:
    """The conditions of a sweep, in order.

    Items are ``NAME`` (a benchmark distortion at its preset levels), ``NAME:L1,L2,...``
    (at these levels: numbers or the benchmark's labels such as ``c50``, ``inf``, ``pow``)
    or a filter-bank spec (``lowpass:0.1``, one condition; specs of one transform form one
    curve, their level is the first argument). The same sweep grammar holds for a
    filter-bank transform of one argument: ``lowpass:0.1,0.25,0.4`` (keywords apply to every
    level: ``lowpass:0.1,0.25,window=gaussian``). Default: the images as they are.
    ``seed`` draws the random distortions; ``monitor_gamma`` is false colour's table (256
    light outputs in [0, 1], an array or a ``.npy`` path; default: the sRGB curve).

    Example:
        >>> [c.label for c in parse_conditions(["contrast:100,30", "lowpass:0.1,0.25,window=gaussian"])]
        ['c100', 'c30', 'lowpass:0.1,window=gaussian', 'lowpass:0.25,window=gaussian']
    """
    if preset is not None and distortions is not None:
        raise FreqprobeError("give distortions or a preset, not both")
    gamma = gamma_table(monitor_gamma)  # a bad table fails before any work
    if preset is not None:
        if preset not in PRESETS:
            raise FreqprobeError(f"unknown preset {preset!r}{did_you_mean(preset, PRESETS)}; known: {', '.join(PRESETS)}")
        items: Sequence[str] = PRESETS[preset]
    elif distortions is None:
        items = ["original"]
    else:
        items = [distortions] if isinstance(distortions, str) else list(distortions)
    if not items:
        raise FreqprobeError("no distortions given")
    conditions: list[Condition] = []
    for item in items:
        name, _, levels = str(item).partition(":")
        distortion = DISTORTIONS.get(name.strip())
        if distortion is None:
            _check_known(str(item))
            conditions.extend(filter_bank_condition(spec) for spec in filter_bank_sweep(str(item)))
            continue
        texts = re.split(r"\s*,\s*", levels.strip()) if levels.strip() else list(distortion.preset)
        for text in texts:
            conditions.append(_benchmark_condition(distortion, distortion.parse(text), seed, gamma))
    keys = [(c.distortion, c.label) for c in conditions]
    if len(set(keys)) < len(keys):
        twice = next(key for key in keys if keys.count(key) > 1)
        raise FreqprobeError(f"condition {twice[1]!r} of {twice[0]} is listed twice")
    return conditions


def filter_bank_sweep(item: str) -> list[str]:
    """``NAME:L1,L2,...[,key=value]`` of a one-argument transform as one spec per level;
    any other spec as it is (``bandpass:0.1,0.2`` has two arguments, not two levels)."""
    name, _, argtext = item.partition(":")
    cls = REGISTRY.get(name.strip())
    tokens = [t.strip() for t in argtext.split(",")] if argtext.strip() else []
    levels = [t for t in tokens if "=" not in t]
    if cls is None or "+" in item or len(cls.positional) != 1 or len(levels) < 2:
        return [item]
    keywords = [t for t in tokens if "=" in t]
    return [f"{name.strip()}:{','.join([level, *keywords])}" for level in levels]


def _check_known(item: str) -> None:
    """A one-line error for a name that is neither a benchmark distortion nor a transform."""
    for stage in re.split(r"\+(?=\s*[A-Za-z_])", item):  # stages, as the filter bank splits them
        name = stage.partition(":")[0].strip()
        if name not in REGISTRY:
            raise FreqprobeError(
                f"unknown distortion {name!r} in {item!r}{did_you_mean(name, [*DISTORTIONS, *REGISTRY])}; "
                f"benchmark distortions: {', '.join(DISTORTIONS)}; "
                f"filter-bank transforms: {', '.join(sorted(REGISTRY))} (freqprobe probe --list)"
            )


def check_conditions(conditions: Sequence[Condition], height: int, width: int) -> None:
    """Raise for a condition that cannot run on images of this size (before any work)."""
    for condition in conditions:
        if isinstance(condition.function, Transform):
            condition.function.check_size(height, width)
        elif condition.distortion == "rotation" and condition.level in (90, 270) and height != width:
            raise FreqprobeError(f"rotation by {condition.level:g} degrees needs square images, got {height}x{width}")
