"""Condition labels that mean the same level, spelled alike wherever trial tables meet.

Human raw data and a probe's trials spell one level differently: ``1`` and ``1.0``,
``0.10`` and ``0.1``, ``true`` and ``True``, ``c5`` and ``c05``. Matched as raw strings,
such conditions would silently fall out of a comparison. Labels are therefore compared by
meaning: booleans case-insensitively, numbers by value (``inf`` included), a benchmark
distortion's labels by the level its ``parse`` reads; any other label as it is (after
stripping). One spelling is kept per meaning: the benchmark's own for its distortions
(``Distortion.label``), else the first spelling met, so tables read back as the
benchmark spells them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ..errors import FreqprobeError
from .distortions import DISTORTIONS

BOOLEANS = {"true": "True", "false": "False"}


def condition_meaning(distortion: str, label: str) -> tuple[str, str | float]:
    """What a label means: ``("bool", "True")``, ``("level", 0.1)`` or ``("text", label)``;
    for a benchmark distortion, its parsed level."""
    text = str(label).strip()
    if text.lower() in BOOLEANS:
        return "bool", BOOLEANS[text.lower()]
    known = DISTORTIONS.get(distortion)
    if known is not None:
        try:
            return "level", known.parse(text)
        except FreqprobeError:
            pass
    try:
        value = float(text)
    except ValueError:
        return "text", text
    return ("text", text) if math.isnan(value) else ("level", value)


def canonical_label(distortion: str, label: str, first_seen: str) -> str:
    """The one spelling of a label's meaning (see the module docstring)."""
    kind, value = condition_meaning(distortion, label)
    if kind == "bool":
        return str(value)
    known = DISTORTIONS.get(distortion)
    if kind == "level" and known is not None:
        return known.label(float(value))
    return first_seen if kind == "level" else str(value)


def harmonise_conditions(tables: Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """The tables with one spelling per condition meaning across all of them (copies;
    each needs ``distortion`` and ``condition`` columns of strings)."""
    spelling: dict[tuple[str, tuple[str, str | float]], str] = {}
    renames: dict[tuple[str, str], str] = {}
    for table in tables:
        for distortion, label in table[["distortion", "condition"]].drop_duplicates().itertuples(index=False):
            key = (distortion, condition_meaning(distortion, label))
            if key not in spelling:
                spelling[key] = canonical_label(distortion, label, str(label).strip())
            renames[distortion, label] = spelling[key]
    if all(label == spelled for (_, label), spelled in renames.items()):
        return [table.copy() for table in tables]  # spelled alike already: no per-row work
    out = []
    for table in tables:
        pairs = zip(table["distortion"], table["condition"])
        out.append(table.assign(condition=[renames[pair] for pair in pairs]))
    return out
