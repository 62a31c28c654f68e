"""The table model every listing is built as: columns with a priority, and display-ready cells.

A view function (``runs_table``, ``models_table`` ...) returns a :class:`Table`; the CLI renders
it with rich (dropping the least important columns when the terminal is too narrow), the magics
render it as HTML. Neither renderer decides what a column holds or how a value reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Column kinds. ``id``, ``status`` and ``time`` cells never wrap (a folded id or time cannot be
#: copied back); ``status`` cells are coloured by the renderers; ``text`` folds when narrow.
KINDS = ("text", "id", "status", "time", "number")


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Table`.

    Attributes
    ----------
    name : str
        The header.
    kind : str
        One of :data:`KINDS`.
    priority : int
        Higher stays longer: a renderer short of width drops the lowest-priority column first.
    """

    name: str
    kind: str = "text"
    priority: int = 50

    @property
    def no_wrap(self) -> bool:
        """True when the cells must stay on one line."""
        return self.kind in ("id", "status", "time")


@dataclass
class Table:
    """Rows of display-ready strings under typed columns.

    Attributes
    ----------
    columns : list of Column
    rows : list of list of str
        One string per column; empty for a missing value.
    title : str, optional
    note : str
        A sentence shown under the table (what to do when it is empty, what was left out).
    """

    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    title: str | None = None
    note: str = ""

    @property
    def headers(self) -> list[str]:
        """The column names, in order."""
        return [c.name for c in self.columns]

    def without(self, names: Iterable[str]) -> Table:
        """A copy without the named columns (their cells go too)."""
        drop = set(names)
        keep = [i for i, c in enumerate(self.columns) if c.name not in drop]
        return Table(
            columns=[self.columns[i] for i in keep],
            rows=[[row[i] for i in keep] for row in self.rows],
            title=self.title,
            note=self.note,
        )


def table(
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[Any]],
    title: str | None = None,
    note: str = "",
) -> Table:
    """Build a :class:`Table`; plain names become text columns (``Status`` a status column).

    Cells are formatted with :func:`~.formatting.value`, so None shows as empty.
    """
    from .formatting import value

    cols = [c if isinstance(c, Column) else Column(c, _kind_of(c)) for c in columns]
    return Table(cols, [[value(cell) for cell in row] for row in rows], title, note)


def _kind_of(name: str) -> str:
    return "status" if name.lower() == "status" else "text"


def key_value(title: str, values: dict[str, Any], key: str = "Name") -> Table:
    """A two-column table of ``values`` sorted by key (params, metrics, tags)."""
    return table([Column(key, priority=90), "Value"], sorted(values.items()), title)


@dataclass
class Page:
    """One thing shown in full (a run, a model version): title, labelled fields, tables.

    Attributes
    ----------
    title : str
    fields : list of (str, str)
        Labelled values in display order (empty ones left out by the view).
    tables : list of Table
        Only the non-empty ones.
    warnings : list of str
        Sentences for the reader (shown before the tables).
    error : str or None
        A traceback or message, shown verbatim at the end.
    """

    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
