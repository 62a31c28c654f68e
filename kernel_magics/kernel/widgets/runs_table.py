"""``%mlops runs``: a runs table that sorts and filters in the store (ipywidgets).

The filter box takes the same expressions as ``mlops.runs(filter=...)``; the sort menu lists
the run columns plus every param and metric of the runs shown. Each change runs one search in
SQL, so the table stays fast with many runs. The table is also sent as HTML, so front ends
without widgets (GitHub, nbviewer) still show it.
"""

from __future__ import annotations

import html
from typing import Any

from ...errors import KernelMagicsError

BASE_SORTS = ["start_time", "end_time", "name", "status", "experiment"]
#: Metric and param columns in the notebook table (a terminal shows four of each).
KEYS_SHOWN = 12


def rows_html(rows: list[dict[str, Any]]) -> str:
    """Render run summaries as an HTML table (params and metrics as columns)."""
    from ...core.views.runs import runs_table
    from .report import table_html

    return table_html(runs_table(rows, keys=KEYS_SHOWN), css="mlops-runs")


def rows_text(rows: list[dict[str, Any]]) -> str:
    """Return a plain-text version of the table (for terminals and text/plain)."""
    from ...core.views.runs import runs_table
    from .report import table_text

    return table_text(runs_table(rows))


class RunsTable:
    """The widget behind ``%mlops runs``.

    Parameters
    ----------
    store : Store
        The store to search.
    experiment : str, optional
        Only this experiment's runs.
    filter : str, optional
        Initial filter expression.
    limit : int
        At most this many rows.
    """

    def __init__(self, store: Any, experiment: str | None, filter: str | None, limit: int):
        import ipywidgets as w

        self.store = store
        self.experiment = experiment
        self.limit = limit
        self.rows: list[dict[str, Any]] = []
        self.filter_box = w.Text(value=filter or "", placeholder="metrics.acc > 0.9",
                                 description="filter", continuous_update=False)  # fmt: skip
        self.sort = w.Dropdown(options=BASE_SORTS, value="start_time", description="sort by")
        self.descending = w.ToggleButton(value=True, description="descending")
        self.message = w.HTML()
        self.table = w.HTML()
        self.widget = w.VBox(
            [w.HBox([self.filter_box, self.sort, self.descending]), self.message, self.table]
        )
        self._updating = False
        for control in (self.filter_box, self.sort, self.descending):
            control.observe(self._changed, names="value")
        self.refresh(raise_errors=True)

    def _changed(self, _change: Any) -> None:
        if not self._updating:
            self.refresh()

    def refresh(self, raise_errors: bool = False) -> None:
        """Search again with the current filter and sort; show errors in the widget."""
        from ...core.views.runs import list_runs

        order = f"{self.sort.value} {'DESC' if self.descending.value else 'ASC'}"
        notes: list[str] = []
        try:
            rows = list_runs(
                self.store, [self.experiment] if self.experiment else None,
                self.filter_box.value.strip() or None, [order], self.limit, notes,
            )  # fmt: skip
        except KernelMagicsError as exc:
            if raise_errors:
                raise
            self.message.value = f"<pre style='color:#d62728'>{html.escape(str(exc))}</pre>"
            return
        self.rows = rows
        self.message.value = f"<small>{len(self.rows)} runs</small>" + "".join(
            f"<br><small style='color:#b26b00'>{html.escape(note)}</small>" for note in notes
        )
        self.table.value = rows_html(self.rows)
        keys = sorted({f"metrics.{k}" for r in self.rows for k in r["metrics"]})
        keys += sorted({f"params.{k}" for r in self.rows for k in r["params"]})
        options = BASE_SORTS + [k for k in keys if k not in BASE_SORTS]
        if list(self.sort.options) != options:
            current, self._updating = self.sort.value, True
            try:
                self.sort.options = options
                self.sort.value = current if current in options else "start_time"
            finally:
                self._updating = False

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = rows_text(self.rows)
        bundle["text/html"] = rows_html(self.rows)
        return bundle
