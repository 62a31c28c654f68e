"""How the CLI prints: core views (:mod:`kernel_magics.core.views`) rendered with rich, and JSON.

A table wider than the terminal drops its lowest-priority columns (and says which) instead of
squeezing every column to nothing: at 80 columns ``mlops runs ls`` still shows each run's id,
name, status and first metrics in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..core.names import CRASHED, FAILED, FINISHED, KILLED, RUNNING
from ..core.views.formatting import duration, when
from ..core.views.table import Column, Page, Table
from ..core.views.table import table as build_table

__all__ = ["console", "duration", "page", "print_json", "render", "table", "when"]

STATUS_STYLE = {RUNNING: "cyan", FINISHED: "green", FAILED: "red", CRASHED: "magenta",
                KILLED: "yellow", "missed": "yellow", "pass": "green", "FAIL": "red",
                "ok": "green", "active": "green", "paused": "yellow", "stopped": "dim",
                "no answer": "red", "firing": "red", "open": "red",
                "resolved": "green"}  # fmt: skip

#: A foldable column is never squeezed below this many characters (shorter cells keep theirs).
MIN_TEXT_WIDTH = 10
#: Headers of columns that never wrap, for callers that pass plain column names.
NO_WRAP = {"Run": "id", "Status": "status", "Started": "time", "Duration": "time",
           "Created": "time", "Last run": "time"}  # fmt: skip


def console():
    """A rich console writing to stdout."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _header(column: Column, compact: bool) -> str:
    # "metrics.accuracy" takes two short lines instead of one long one when space is short.
    prefix, dot, key = column.name.partition(".")
    return f"{prefix}.\n{key}" if compact and dot and key else column.name


def _widths(view: Table, compact: bool, minimum: bool) -> list[int]:
    widths = []
    for i, column in enumerate(view.columns):
        head = max(len(line) for line in _header(column, compact).splitlines() or [""])
        longest = max([0, *(len(row[i]) for row in view.rows)])
        natural = max(head, longest)
        if not minimum or column.no_wrap:
            widths.append(natural)
        elif column.kind == "number":  # a number never folds; its header may
            widths.append(max(longest, min(head, MIN_TEXT_WIDTH)))
        else:
            widths.append(min(natural, MIN_TEXT_WIDTH))
    return widths


def _total(widths: list[int]) -> int:
    # rich's default box: one space of padding each side and a rule between columns.
    return sum(widths) + 3 * len(widths) + 1


def fit(view: Table, width: int) -> tuple[Table, list[str], bool]:
    """Make ``view`` fit ``width`` terminal columns.

    Dotted headers go on two lines (``metrics.`` over ``accuracy``) when the table is too wide
    as it is; then the lowest-priority columns are dropped until every column gets its minimum
    width (ids, statuses and times in full, numbers in full, text folded at
    :data:`MIN_TEXT_WIDTH`).

    Returns
    -------
    (Table, list of str, bool)
        The table that fits, the names of the dropped columns (in table order), and whether
        headers are compact.
    """
    compact = _total(_widths(view, False, False)) > width
    current = view
    while len(current.columns) > 1 and _total(_widths(current, compact, True)) > width:
        # Lowest priority first; among equals the rightmost (the least important by place).
        victim = min(reversed(current.columns), key=lambda c: c.priority)
        current = current.without([victim.name])
    kept = set(current.headers)
    return current, [c.name for c in view.columns if c.name not in kept], compact


def render(view: Table, out: Any = None) -> None:
    """Print a view's table with rich: statuses coloured, ids and times on one line.

    When the terminal is too narrow, the least important columns are left out and a line says
    which (``--json`` has them all).
    """
    from rich.table import Table as RichTable
    from rich.text import Text

    out = out or console()
    shown, dropped, compact = fit(view, out.width)
    grid = RichTable(title=shown.title, show_lines=False, header_style="bold")
    for col in shown.columns:
        grid.add_column(_header(col, compact), overflow="fold", no_wrap=col.no_wrap)
    statuses = [i for i, c in enumerate(shown.columns) if c.kind == "status"]
    for row in shown.rows:
        # Text cells: a value such as "[red]" is shown as typed, never read as rich markup.
        cells = [Text(cell) for cell in row]
        for i in statuses:
            cells[i].stylize(STATUS_STYLE.get(row[i], ""))
        grid.add_row(*cells)
    if shown.rows or not shown.note:
        out.print(grid)
    # Sentences wrap at the terminal's width (the console soft-wraps only long cells).
    if shown.note:
        out.print(shown.note, markup=False, soft_wrap=False)
    if dropped:
        out.print(
            f"(Left out to fit {out.width} columns: {', '.join(dropped)}. "
            "Widen the terminal, or add --json for every field.)",
            style="dim",
            markup=False,
            soft_wrap=False,
        )


def page(view: Page, out: Any = None) -> None:
    """Print a :class:`~kernel_magics.core.views.table.Page`: title, fields, tables, error."""
    out = out or console()
    out.print(view.title, style="bold", markup=False)
    width = max((len(label) for label, _ in view.fields), default=0) + 1
    for label, text in view.fields:
        out.print(f"{label + ':':<{width}} {text}", markup=False)
    for warning in view.warnings:
        out.print(f"Warning: {warning}", style="yellow", markup=False)
    for section in view.tables:
        render(section, out)
        out.print()
    if view.error:
        out.print("Error", style="bold red")
        out.print(view.error, markup=False)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows under plain column names (a ``Status`` column is coloured)."""
    cols = [Column(c, NO_WRAP.get(c, "text")) for c in columns]
    render(build_table(cols, rows, title))


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (for scripts: every listing has ``--json``)."""
    print(json.dumps(data, indent=2, default=str))
