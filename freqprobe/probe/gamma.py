"""False colour's monitor gamma table: light output (0 to 1) of each 8-bit value.

A user's table (an array or a ``.npy`` file of 256 increasing values in [0, 1]), or by
default the sRGB display's transfer function (IEC 61966-2-1), computed here.
model-vs-human's stimuli went through their lab's measured table instead:
``code/x_gamma_function.npy`` of ``rgeirhos/generalisation-humans-DNNs``; pass that file
to reproduce them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Union

import numpy as np

from ..errors import FreqprobeError

#: What ``monitor_gamma`` takes: ``None`` (sRGB), a ``.npy`` path, or 256 values.
GammaSource = Union[str, os.PathLike, np.ndarray, Sequence[float], None]
#: The default display model's name, as run settings record it.
SRGB = "sRGB (IEC 61966-2-1)"


def srgb_light(v: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (IEC 61966-2-1): encoded values in [0, 1] to light output."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def gamma_table(source: GammaSource = None) -> np.ndarray:
    """The 256-entry table of ``source`` (float64), checked: the sRGB curve for ``None``."""
    if source is None:
        return srgb_light(np.arange(256) / 255)
    if isinstance(source, (str, os.PathLike)):
        name = repr(os.fspath(source))
        try:
            values = np.load(os.fspath(source), allow_pickle=False)
        except (OSError, ValueError) as err:
            reason = str(err).splitlines()[0]
            raise FreqprobeError(f"monitor gamma {name}: cannot read a .npy table ({reason})") from None
    else:
        name, values = "table", source
    try:
        table = np.asarray(values, dtype=np.float64).squeeze()
    except (TypeError, ValueError):
        raise FreqprobeError(f"monitor gamma {name}: not an array of numbers") from None
    _check(table, name)
    return table


def _check(table: np.ndarray, name: str) -> None:
    problem = None
    if table.shape != (256,):
        problem = f"has shape {tuple(table.shape)}, not 256 entries (one per 8-bit value)"
    elif not np.isfinite(table).all():
        problem = "has NaN or infinite entries"
    elif table.min() < 0 or table.max() > 1:
        problem = f"spans [{table.min():g}, {table.max():g}], not light output within [0, 1] (divide by the white's)"
    elif not (np.diff(table) > 0).all():
        problem = f"is not increasing (entry {int(np.argmin(np.diff(table) > 0)) + 1} is not above the one before)"
    if problem:
        raise FreqprobeError(f"monitor gamma {name} {problem}")


def describe(source: GammaSource) -> Any:
    """The table's source as run settings record it: the display model, the path or the values."""
    if source is None:
        return SRGB
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return gamma_table(source).tolist()
