"""How results show themselves: a short ``repr`` in a terminal; in Jupyter, the view a run
folder's ``report.html`` gives them (figures and sortable tables, ``freqprobe.report``)."""

from __future__ import annotations

import abc
from typing import ClassVar

import pandas as pd

#: Rows of the shown table that ``repr`` prints.
REPR_ROWS = 10


class TableDisplay(abc.ABC):
    """Mixin for results: ``repr`` is the class, one line of ``describe()`` and the first rows
    of one table (not every attribute, which would flood a notebook); Jupyter renders the
    result's report view. Dataclasses using it pass ``repr=False``."""

    #: The attribute (a DataFrame) that a terminal and a notebook show.
    shown_table: ClassVar[str] = "table"

    @abc.abstractmethod
    def describe(self) -> str:
        """One line about the result."""

    def _shown(self) -> pd.DataFrame:
        return getattr(self, self.shown_table)

    def __repr__(self) -> str:
        table = self._shown()
        rows = table.head(REPR_ROWS).to_string(index=False, max_colwidth=24)
        more = f"\n... {len(table)} rows in .{self.shown_table}" if len(table) > REPR_ROWS else ""
        return f"{type(self).__name__}: {self.describe()}\n{rows}{more}"

    def _repr_html_(self) -> str:
        from .report import result_report  # the report room draws figures: loaded only when shown

        return result_report(self)._repr_html_()
