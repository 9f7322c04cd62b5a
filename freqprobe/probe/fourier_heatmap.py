"""``fp.fourier_heatmap``: Yin et al.'s Fourier heat map of any K-class classifier on labelled data.

Yin, Gontijo Lopes, Shlens, Cubuk & Gilmer ("A Fourier perspective on model robustness
in computer vision", NeurIPS 2019): add ``eps`` times a Fourier basis image (a cosine of
unit L2 norm, a random sign per channel) to every image, and measure the error rate for
every basis direction. Here the error is top-k (the true class not among the ``k`` best
scores); the sum is clipped to [0, 1] with ``clamp=True``, as the reference
implementation (gatheluck/FourierHeatmap, ``AddFourierNoise``) does before normalising.
The computation is ``freqprobe.attribution.fourier_maps.basis_errors``, shared with
``fp.attribute``'s two-set heat map.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from .._version import __version__
from ..attribution.fourier_maps import basis_errors, mirrored, top_k_misses
from ..device import resolve_device
from ..display import TableDisplay
from ..errors import FreqprobeError
from ..io import atomic_path, write_table
from ..models.state import restored
from .decisions import make_decider
from .labelled import LabelledSource, load_labelled
from .run import load_observer, observer_name, own_classes

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclasses.dataclass(repr=False)
class FourierHeatmapReport(TableDisplay):
    """Error rate per Fourier basis direction: ``maps`` ``(len(top_k), H, W)`` in FFT order,
    ``clean`` the unperturbed error per ``k``, ``table`` one row per ``(k, fy, fx)``
    (frequencies in cycles per pixel) with ``error`` and ``clean_error``."""

    maps: np.ndarray
    clean: np.ndarray
    settings: dict[str, Any]

    @property
    def table(self) -> pd.DataFrame:
        top_k = self.settings["top_k"]
        _, height, width = self.maps.shape
        fy, fx = np.meshgrid(np.fft.fftfreq(height), np.fft.fftfreq(width), indexing="ij")
        return pd.concat([
            pd.DataFrame({"k": k, "fy": fy.ravel(), "fx": fx.ravel(), "error": self.maps[i].ravel(),
                          "clean_error": self.clean[i]}) for i, k in enumerate(top_k)
        ], ignore_index=True)  # fmt: skip

    def describe(self) -> str:
        worst = [f"top-{k}: clean {c:.3f}, worst {m.max():.3f}" for k, c, m in
                 zip(self.settings["top_k"], self.clean, self.maps)]  # fmt: skip
        return f"{self.settings['model']} on {self.settings['n_images']} images, eps {self.settings['eps']:g}; " + \
            "; ".join(worst)  # fmt: skip

    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """``heatmap.csv`` (the table), ``maps.npz``, ``settings.json``, figure ``heatmap``."""
        from ..figures import save_figure

        folder = Path(folder)
        paths = [write_table(self.table, folder / "heatmap.csv")]
        with atomic_path(folder / "maps.npz") as partial, open(partial, "wb") as handle:
            np.savez(handle, maps=self.maps, clean=self.clean)
        with atomic_path(folder / "settings.json") as partial:
            partial.write_text(json.dumps(self.settings, indent=2, default=str) + "\n")
        return [*paths, folder / "maps.npz", folder / "settings.json", *save_figure(self.plot(), folder / "heatmap")]

    def plot(self) -> Figure:
        from ..figures.fourier_heatmap import plot_fourier_heatmap

        return plot_fourier_heatmap(self.maps, self.clean, self.settings["top_k"], self.settings["eps"])


def fourier_heatmap(
    model: Any,
    data: LabelledSource,
    *,
    eps: float = 4.0,
    top_k: int | Sequence[int] = 1,
    clamp: bool = False,
    class_names: Sequence[str] | None = None,
    label_map: str | Mapping[str, Sequence[int]] | None = None,
    size: int | tuple[int, int] | None = None,
    batch_size: int = 256,
    device: str | torch.device = "auto",
    seed: int = 0,
    name: str | None = None,
) -> FourierHeatmapReport:
    """Yin et al.'s Fourier heat map of a K-class classifier on labelled images.

    Args:
        model: anything ``fp.probe`` takes as one model; inputs in [0, 1], ``(N, 3, H, W)``.
        data: a folder with one sub-folder per class, or ``(images, labels, class_names)``.
        eps: L2 norm of the added basis image (Yin et al.: 4 on CIFAR-10, 15.7 on ImageNet).
        top_k: one ``k`` or several: an error is the true class outside the ``k`` best.
        clamp: clip perturbed images to [0, 1] (the reference implementation's choice).
        class_names, label_map: the model's outputs as ``fp.probe`` reads them.
        batch_size: at most this many images per forward pass (at least all images).
        device, seed: ``"auto"`` (CUDA if available); the seed of the random signs.
        name: the model's name in the settings (default as ``fp.probe`` names it).
    """
    top_k = (top_k,) if isinstance(top_k, int) else tuple(int(k) for k in top_k)
    if not eps > 0:
        raise FreqprobeError(f"eps must be > 0, got {eps}")
    labelled = load_labelled(data, size=size)
    device = resolve_device(device)
    name = observer_name(model) if name is None else name
    with restored(model):
        net = load_observer(model, device=device)
        decider = make_decider(labelled.class_names, class_names, label_map, own_classes(net), name)
        if any(k < 1 or k > len(decider.class_names) for k in top_k):
            raise FreqprobeError(f"top_k must lie in 1..{len(decider.class_names)} (the classes), got {top_k}")
        images = labelled.images.float(device)
        columns = torch.tensor([decider.class_names.index(c) for c in labelled.categories], device=device)
        scores = lambda x: decider.scores(net(x))  # noqa: E731
        with torch.no_grad():
            decider.check_outputs(net(images[:2]), name)
            clean = torch.cat([top_k_misses(scores(images[i : i + batch_size]), columns[i : i + batch_size], top_k)
                               for i in range(0, len(images), batch_size)], dim=1)  # fmt: skip
        generator = torch.Generator().manual_seed(seed)
        errors = basis_errors(scores, images, columns, eps, batch_size, generator, top_k, clamp)
    height, width = labelled.images.size
    maps = mirrored(errors.double().mean(dim=2), height, width).numpy()
    settings = {"version": __version__, "model": name, "data": labelled.images.origin,
                "n_images": len(labelled), "size": [height, width], "eps": eps, "top_k": list(top_k),
                "clamp": clamp, "seed": seed, "classes": list(labelled.class_names)}  # fmt: skip
    return FourierHeatmapReport(maps, clean.double().mean(dim=1).cpu().numpy(), settings)
