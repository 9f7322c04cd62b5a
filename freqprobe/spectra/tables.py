"""From running sums to the report's tables and 2-D maps (CPU, numpy, pandas)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from .compare import FDR, benjamini_hochberg, power_ratio, welch_t_test
from .measure import CHANNELS, MeasurePlan, SetSums, SpectrumSums
from .peaks import find_peaks, folded_frequency, in_half_plane
from .power import POWER_FLOOR, full_plane
from .residuals import autocorrelation
from .subbands import DCT_BLOCK, subband_labels

KINDS = ("image", "residual")
RESIDUAL_CHANNELS = ("Y",)


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def _db(power: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.maximum(power, POWER_FLOOR))


def _spectra(sums: SetSums) -> dict[str, tuple[SpectrumSums, Sequence[str]]]:
    return {"image": (sums.image, CHANNELS), "residual": (sums.residual, RESIDUAL_CHANNELS)}


def radial_table(names: Sequence[str], sums: Sequence[SetSums], plan: MeasurePlan) -> pd.DataFrame:
    """``set, f, power, se, power_db, mean_log_db, spectrum, channel, n_frequencies``.

    ``power`` is the mean over images of each image's mean power in the ring (so also the
    ring mean of the mean spectrum), ``se`` its standard error over images, ``power_db``
    its dB (log of mean); ``mean_log_db`` is the ring mean of the per-frequency mean dB
    (mean of log).
    """
    f = _numpy(plan.radial.centers)
    count = _numpy(plan.radial.counts)
    rows = []
    for name, set_sums in zip(names, sums):
        for kind, (spectrum_sums, channels) in _spectra(set_sums).items():
            power = _numpy(spectrum_sums.radial.mean)
            se = _numpy(spectrum_sums.radial.standard_error)
            mean_log = _numpy(plan.radial.means(spectrum_sums.decibels.mean[None].float())[0].double())
            for c, channel in enumerate(channels):
                rows.append(
                    pd.DataFrame(
                        {
                            "set": name,
                            "f": f,
                            "power": power[c],
                            "se": se[c],
                            "power_db": _db(power[c]),
                            "mean_log_db": mean_log[c],
                            "spectrum": kind,
                            "channel": channel,
                            "n_frequencies": count,
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def comparison_table(names: Sequence[str], sums: Sequence[SetSums], plan: MeasurePlan) -> pd.DataFrame:
    """Each generated set against the first (real) one, per radial bin.

    Columns ``set, reference, f, ratio, sde, t, p_value, p_adjusted, significant, spectrum,
    channel``: ``ratio`` of mean ring powers, ``sde = ratio - 1`` (the spectral density
    error), Welch's t on per-image ring dB and its Benjamini-Hochberg adjusted p-value over
    the bins of one profile; ``significant`` is ``p_adjusted <= FDR``.
    """
    f = _numpy(plan.radial.centers)
    rows = []
    real = sums[0]
    for name, fake in zip(names[1:], sums[1:]):
        for kind in KINDS:
            (a, channels), (b, _) = _spectra(real)[kind], _spectra(fake)[kind]
            ratio = power_ratio(_numpy(b.radial.mean), _numpy(a.radial.mean))
            t, p = welch_t_test(
                _numpy(a.radial_db.mean), _numpy(a.radial_db.variance), a.radial_db.count,
                _numpy(b.radial_db.mean), _numpy(b.radial_db.variance), b.radial_db.count,
            )  # fmt: skip
            for c, channel in enumerate(channels):
                adjusted = benjamini_hochberg(p[c])
                rows.append(
                    pd.DataFrame(
                        {
                            "set": name,
                            "reference": names[0],
                            "f": f,
                            "ratio": ratio[c],
                            "sde": ratio[c] - 1,
                            "t": t[c],
                            "p_value": p[c],
                            "p_adjusted": adjusted,
                            "significant": adjusted <= FDR,
                            "spectrum": kind,
                            "channel": channel,
                        }
                    )
                )
    columns = ["set", "reference", "f", "ratio", "sde", "t", "p_value", "p_adjusted", "significant"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=[*columns, "spectrum", "channel"])


def angular_table(names: Sequence[str], sums: Sequence[SetSums], plan: MeasurePlan) -> pd.DataFrame:
    """``set, angle, power, se, spectrum, channel``: mean power per orientation sector (degrees)."""
    angle = _numpy(plan.angular.centers)
    rows = []
    for name, set_sums in zip(names, sums):
        for kind, (spectrum_sums, channels) in _spectra(set_sums).items():
            power = _numpy(spectrum_sums.angular.mean)
            se = _numpy(spectrum_sums.angular.standard_error)
            for c, channel in enumerate(channels):
                columns = {"set": name, "angle": angle, "power": power[c], "se": se[c]}
                rows.append(pd.DataFrame({**columns, "spectrum": kind, "channel": channel}))
    return pd.concat(rows, ignore_index=True)


def subband_table(names: Sequence[str], sums: Sequence[SetSums], plan: MeasurePlan) -> pd.DataFrame:
    """``set, level, band, energy, se``: mean squared Haar coefficient of Y per sub-band."""
    labels = subband_labels(plan.subband_levels)
    rows = []
    for name, set_sums in zip(names, sums):
        energy, se = _numpy(set_sums.subbands.mean), _numpy(set_sums.subbands.standard_error)
        rows += [
            {"set": name, "level": level, "band": band, "energy": energy[i], "se": se[i]}
            for i, (level, band) in enumerate(labels)
        ]
    return pd.DataFrame(rows)


def dct_table(names: Sequence[str], sums: Sequence[SetSums]) -> pd.DataFrame:
    """``set, u, v, mean, std``: each 8x8 DCT coefficient of Y over all tiles of all images."""
    u, v = np.meshgrid(np.arange(DCT_BLOCK), np.arange(DCT_BLOCK), indexing="ij")
    rows = []
    for name, set_sums in zip(names, sums):
        moments = set_sums.dct
        std = np.sqrt(_numpy(moments.variance))
        rows.append(
            pd.DataFrame(
                {"set": name, "u": u.ravel(), "v": v.ravel(), "mean": _numpy(moments.mean).ravel(), "std": std.ravel()}
            )
        )
    return pd.concat(rows, ignore_index=True)


def significance_map(a: SpectrumSums, b: SpectrumSums, width: int) -> np.ndarray:
    """``(C, H, W)`` bool: frequencies where per-image dB differs (Welch, BH over the half plane)."""
    mean_a, var_a = (_numpy(full_plane(m, width)) for m in (a.decibels.mean, a.decibels.variance))
    mean_b, var_b = (_numpy(full_plane(m, width)) for m in (b.decibels.mean, b.decibels.variance))
    _, p = welch_t_test(mean_a, var_a, a.decibels.count, mean_b, var_b, b.decibels.count)
    height = p.shape[-2]
    fy = folded_frequency(np.arange(height), height)[:, None]
    fx = folded_frequency(np.arange(width), width)[None, :]
    tested = in_half_plane(fy, fx) & ~((fy == 0) & (fx == 0))  # each conjugate pair once, no DC
    significant = np.zeros(p.shape, dtype=bool)
    for c in range(p.shape[0]):
        adjusted = benjamini_hochberg(p[c][tested])
        passing = p[c][tested][adjusted <= FDR]
        if len(passing):  # BH is monotone in p: one threshold for the whole plane
            significant[c] = (p[c] <= passing.max()) & ~((fy == 0) & (fx == 0))
    return significant


def spectral_maps(names: Sequence[str], sums: Sequence[SetSums], plan: MeasurePlan) -> dict[str, np.ndarray]:
    """The 2-D arrays saved in ``maps.npz`` (full planes in FFT order, float32)."""
    width = plan.width
    residual_power = [full_plane(s.residual.power.mean[0], width) for s in sums]
    maps = {
        "sets": np.array(names),
        "channels": np.array(CHANNELS),
        "fy": np.fft.fftfreq(plan.height),
        "fx": np.fft.fftfreq(width),
        "image_power": np.stack([_numpy(full_plane(s.image.power.mean, width)) for s in sums]),
        "image_mean_db": np.stack([_numpy(full_plane(s.image.decibels.mean, width)) for s in sums]),
        "residual_power": np.stack([_numpy(p) for p in residual_power]),
        "residual_mean_db": np.stack([_numpy(full_plane(s.residual.decibels.mean[0], width)) for s in sums]),
        "residual_autocorrelation": np.stack([_numpy(autocorrelation(p)) for p in residual_power]),
    }
    fakes = sums[1:]
    shape = (plan.height, width)
    maps["image_significant"] = np.array(
        [significance_map(sums[0].image, s.image, width) for s in fakes], dtype=bool
    ).reshape(len(fakes), len(CHANNELS), *shape)
    maps["residual_significant"] = np.array(
        [significance_map(sums[0].residual, s.residual, width)[0] for s in fakes], dtype=bool
    ).reshape(len(fakes), *shape)
    return {k: v.astype(np.float32) if v.dtype == np.float64 and k not in ("fy", "fx") else v for k, v in maps.items()}


def peak_table(names: Sequence[str], maps: dict[str, np.ndarray], min_score: float, max_peaks: int) -> pd.DataFrame:
    """``set, fy, fx, radius, score, excess_db, level_db``: peaks of each set's mean residual dB."""
    tables = [
        find_peaks(level.astype(np.float64), min_score, max_peaks).assign(set=name)
        for name, level in zip(names, maps["residual_mean_db"])
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[["set", *table.columns.drop("set")]]
