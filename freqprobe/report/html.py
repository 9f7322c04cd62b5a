"""HTML pieces of a report: embedded figures, sortable tables, sections, the page.

Everything is inline (figures as base64 PNG, a few lines of CSS and JavaScript), so a
report opens from disk in any browser, with no server and no network.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

import pandas as pd

#: Rows shown of a long table (the CSV in the run folder has them all).
MAX_ROWS = 200

STYLE = """
.fp-report { font-family: system-ui, sans-serif; max-width: 1200px; margin: 0 auto; color: #222; }
.fp-report h1 { font-size: 1.5em; } .fp-report h2 { border-bottom: 1px solid #ccc; padding-top: 0.6em; }
.fp-report figure { margin: 0.8em 0; } .fp-report img { max-width: 100%; height: auto; }
.fp-report figcaption, .fp-report .fp-note { color: #555; font-size: 0.9em; }
.fp-report table.fp-sortable { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
.fp-report table.fp-sortable th { cursor: pointer; background: #f0f0f0; position: sticky; top: 0; }
.fp-report table.fp-sortable th, .fp-report table.fp-sortable td { border: 1px solid #ddd; padding: 2px 6px; }
.fp-report .fp-warning { background: #fff4e5; border-left: 4px solid #e67e22; padding: 4px 8px; margin: 4px 0; }
.fp-report nav a { margin-right: 1em; }
"""

#: Click a column header to sort by it (numbers as numbers); again to reverse. Installed once per page.
SORT_SCRIPT = """
if (!window.fpSortInstalled) {
  window.fpSortInstalled = true;
  document.addEventListener("click", function (event) {
    var th = event.target.closest("table.fp-sortable th");
    if (!th) return;
    var table = th.closest("table"), body = table.tBodies[0], column = th.cellIndex;
    var ascending = th.dataset.order !== "asc";
    Array.prototype.forEach.call(th.parentNode.cells, function (cell) { delete cell.dataset.order; });
    th.dataset.order = ascending ? "asc" : "desc";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[column].textContent, y = b.cells[column].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
}
"""


def png_html(png: bytes, caption: str = "") -> str:
    """A PNG embedded as a data URI, with its caption."""
    data = base64.b64encode(png).decode("ascii")
    alt = html.escape(caption or "figure", quote=True)
    shown = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{shown}</figure>'


def table_html(table: pd.DataFrame, caption: str = "", digits: int = 4) -> str:
    """A sortable table (the first ``MAX_ROWS`` rows; the note says when there are more)."""
    shown = table.head(MAX_ROWS)
    body = shown.to_html(
        index=False, classes="fp-sortable", border=0, float_format=lambda v: f"{v:.{digits}g}", na_rep=""
    )
    more = f" (first {MAX_ROWS} of {len(table)} rows)" if len(table) > MAX_ROWS else ""
    title = f'<p class="fp-note">{html.escape(caption)}{more}</p>' if caption or more else ""
    return title + body


def note_html(text: str) -> str:
    return f'<p class="fp-note">{html.escape(text)}</p>'


def warning_html(text: str) -> str:
    return f'<div class="fp-warning">{html.escape(text)}</div>'


def section_html(anchor: str, title: str, blocks: Sequence[str]) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>\n' + "\n".join(blocks) + "\n</section>"


def fragment_html(body: str) -> str:
    """A report body that can sit inside another page (Jupyter): scoped style, the sort script."""
    return f'<div class="fp-report"><style>{STYLE}</style>\n{body}\n<script>{SORT_SCRIPT}</script></div>'


def page_html(title: str, body: str) -> str:
    """A whole, self-contained HTML page."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{fragment_html(body)}\n</body></html>\n"
    )
