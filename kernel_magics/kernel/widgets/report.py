"""Core views (:mod:`kernel_magics.core.views`) as notebook output: HTML, with text elsewhere.

A :class:`Report` carries the data it shows (``report.data``) and renders as HTML in notebooks
and as plain text in terminals, so ``d = %mlops deploy churn@production`` also hands the
deployment to code. :func:`table_html` and :func:`page_html` are the HTML renderers of a view's
:class:`~kernel_magics.core.views.table.Table` and :class:`~kernel_magics.core.views.table.Page`
(the CLI renders the same views with rich).
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...core.views.table import Page, Table

STYLE = "<style>.mlops-report td,.mlops-report th{padding:2px 8px;text-align:left}</style>"
#: Status colours, the same hues as the side panel's.
STATUS_COLOURS = {"running": "#1f77b4", "finished": "#2ca02c", "failed": "#d62728",
                  "crashed": "#9467bd", "killed": "#ff7f0e"}  # fmt: skip
HIGHLIGHT = " style='background:rgba(255,200,0,0.25)'"


class Report:
    """A rendered view over ``data`` (HTML for notebooks, text for terminals)."""

    def __init__(self, data: Any, html_text: str, text: str):
        self.data = data
        self._html = html_text
        self._text = text

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text


def img(png: bytes | None) -> str:
    """An inline ``<img>`` of PNG bytes (empty for None)."""
    if not png:
        return ""
    return f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}'/>"


def _cell(text: str, kind: str) -> str:
    if kind == "id":
        return f"<code>{html.escape(text)}</code>"
    if kind == "status" and text in STATUS_COLOURS:
        return f"<span style='color:{STATUS_COLOURS[text]}'>{html.escape(text)}</span>"
    return html.escape(text)


def table_html(view: Table, highlight: list[bool] | None = None, css: str = "mlops-report") -> str:
    """Render a view's table as HTML: its title, every column, its note.

    Parameters
    ----------
    view : Table
    highlight : list of bool, optional
        Rows to highlight (those that differ, in a comparison).
    css : str
        The table's CSS class.
    """
    out = [f"<h5>{html.escape(view.title)}</h5>" if view.title else ""]
    if view.rows or not view.note:
        out.append(f"<table class='{css}'><thead><tr>")
        out += [f"<th>{html.escape(c.name)}</th>" for c in view.columns]
        out.append("</tr></thead><tbody>")
        for i, row in enumerate(view.rows):
            style = HIGHLIGHT if highlight and highlight[i] else ""
            cells = "".join(
                f"<td>{_cell(text, c.kind)}</td>" for c, text in zip(view.columns, row, strict=True)
            )
            out.append(f"<tr{style}>{cells}</tr>")
        out.append("</tbody></table>")
    if view.note:
        out.append(f"<p><em>{html.escape(view.note)}</em></p>")
    return "".join(out)


def table_text(view: Table) -> str:
    """Render a view's table as aligned plain text (title, header, rows, note)."""
    widths = [
        max([len(c.name), *(len(r[i]) for r in view.rows)]) for i, c in enumerate(view.columns)
    ]
    lines = [view.title] if view.title else []
    if view.rows:
        header = "  ".join(c.name.ljust(w) for c, w in zip(view.columns, widths, strict=True))
        lines.append(header.rstrip())
        lines += ["  ".join(t.ljust(w) for t, w in zip(r, widths, strict=True)).rstrip()
                  for r in view.rows]  # fmt: skip
    if view.note:
        lines.append(view.note)
    return "\n".join(lines)


def table_report(data: Any, view: Table) -> Report:
    """A :class:`Report` of one table over ``data``."""
    return Report(data, STYLE + f"<div class='mlops-report'>{table_html(view)}</div>",
                  table_text(view))  # fmt: skip


def page_html(view: Page) -> str:
    """Render a view's page: title, labelled fields, warnings, tables, error."""
    parts = [STYLE, f"<h4>{html.escape(view.title)}</h4>"]
    if view.fields:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in view.fields
        )
        parts.append(f"<table class='mlops-report'>{rows}</table>")
    parts += [f"<p style='color:#ff7f0e'>&#9888; {html.escape(w)}</p>" for w in view.warnings]
    if view.error:
        parts.append(f"<h5>Error</h5><pre>{html.escape(view.error)}</pre>")
    parts += [table_html(t) for t in view.tables]
    return "".join(parts)


def page_text(view: Page) -> str:
    """Render a view's page as plain text."""
    lines = [view.title] + [f"  {k}: {v}" for k, v in view.fields]
    lines += [f"  warning: {w}" for w in view.warnings]
    for t in view.tables:
        lines += ["", table_text(t)]
    if view.error:
        lines.append("error: " + view.error.strip().splitlines()[-1])
    return "\n".join(lines)
