"""One self-contained HTML report per run folder (``fp.html_report``, ``freqprobe report DIR``),
and the same view of a single result in Jupyter (``result_report``)."""

from __future__ import annotations

from .page import RunReport, report, result_report

__all__ = ["RunReport", "report", "result_report"]
