"""Spectra without training: mean and residual power spectra, radial and angular profiles,
comparisons with the real set, and an artifact peak finder.

Conventions: frequencies in cycles/pixel on the ``torch.fft.fftfreq`` grid; power is
``|FFT|**2 / sum(window**2)`` of mean-removed images in ``[0, 1]`` units (white noise of
variance ``s**2`` is flat at ``s**2``); dB are ``10 log10(power)``. See ``report`` for the
run folder, ``power``, ``profiles``, ``residuals``, ``compare`` and ``peaks`` for each step.
"""

from __future__ import annotations

from .report import SpectrumReport, redraw, spectrum

__all__ = ["SpectrumReport", "redraw", "spectrum"]
