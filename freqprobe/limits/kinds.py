"""The probes an audiogram can plant, and for each: its strength, unit and evaluation key.

- ``sinusoid``: amplitude (grey levels) of a random-phase sinusoid at each grid frequency.
- ``noise``: RMS (grey levels) of luminance noise filling the grid cell of each frequency.
- ``colour``: a cast of ``a`` whole grey levels (+a red, -a blue); one search, no frequency.
- ``jpeg``: re-encoding at a JPEG quality; the searched strength is ``100 - quality``
  (whole numbers); one search, no frequency.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import Tensor

from ..errors import FreqprobeError
from .probes import plant_colour_cast, plant_jpeg, plant_noise_band, plant_sinusoid
from .search import Bracket


@dataclasses.dataclass(frozen=True)
class Probe:
    """What is planted. ``on_grid``: one search per grid frequency (else one search);
    ``whole``: the strength takes whole numbers; ``strengths``: the default searched range;
    ``floor``: below it the probe leaves uint8 images as they were (a sinusoid of amplitude
    under 0.5 grey levels rounds away at every pixel), so nothing below is detectable."""

    name: str
    on_grid: bool
    whole: bool
    strengths: tuple[float, float]
    unit: str
    floor: float = 0.0

    def floored(self, bracket: Bracket) -> Bracket:
        """``bracket`` with its lower end raised to ``floor`` when the floor lies inside it:
        a threshold below what the images can carry is no threshold."""
        if bracket.low < self.floor < bracket.high:
            return Bracket(self.floor, bracket.high)
        return bracket

    def plant(self, images: Tensor, frequency: tuple[float, float] | None, strength: float, seed: int, step: float) -> Tensor:
        """``images`` (uint8) with the probe planted at ``strength``."""
        if self.name == "sinusoid":
            return plant_sinusoid(images, *frequency, strength, seed)
        if self.name == "noise":
            return plant_noise_band(images, *frequency, step, strength, seed)
        if self.name == "colour":
            return plant_colour_cast(images, int(strength))
        return plant_jpeg(images, 100 - int(strength))

    def key(self, frequency: tuple[float, float] | None, strength: float, step: float) -> dict[str, Any]:
        """The probe's part of an evaluation key (the sinusoid's as before probes were added)."""
        if self.name == "sinusoid":
            return {"probe": "sinusoid", "fy": frequency[0], "fx": frequency[1], "amplitude": round(strength, 9)}
        if self.name == "noise":
            return {"probe": "noise", "fy": frequency[0], "fx": frequency[1], "step": step, "amplitude": round(strength, 9)}
        if self.name == "colour":
            return {"probe": "colour", "amplitude": int(strength)}
        return {"probe": "jpeg", "quality": 100 - int(strength)}

    def record(self, frequency: tuple[float, float] | None, strength: float) -> dict[str, Any]:
        """The columns of an evaluation that say what was planted."""
        where = {} if frequency is None else {"fy": frequency[0], "fx": frequency[1]}
        if self.name == "jpeg":
            return {**where, "quality": 100 - int(strength)}
        return {**where, "amplitude": int(strength) if self.whole else strength}

    def check(self, smallest: float, largest: float) -> None:
        """A one-line error for a range this probe cannot plant."""
        if self.whole and (smallest != int(smallest) or largest != int(largest)):
            raise FreqprobeError(f"the {self.name} probe takes whole strengths ({self.unit}), got {smallest:g}, {largest:g}")
        if self.name == "jpeg" and not 1 <= smallest < largest <= 99:
            raise FreqprobeError(f"jpeg strengths (100 - quality) must satisfy 1 <= smallest < largest <= 99, got "
                                 f"{smallest:g}, {largest:g}")  # fmt: skip


PROBES = {
    "sinusoid": Probe("sinusoid", True, False, (0.25, 32.0), "grey levels (amplitude)", floor=0.5),
    "noise": Probe("noise", True, False, (0.25, 32.0), "grey levels (RMS)"),
    "colour": Probe("colour", False, True, (1, 64), "grey levels (+red, -blue)"),
    "jpeg": Probe("jpeg", False, True, (1, 90), "100 - JPEG quality"),
}


def get_probe(name: str) -> Probe:
    if name not in PROBES:
        raise FreqprobeError(f"unknown probe {name!r}; choose {', '.join(PROBES)}")
    return PROBES[name]
