"""``%mlops runs``: a runs table that sorts and filters in the store (ipywidgets).

The filter box takes the same expressions as ``mlops.runs(filter=...)``; the sort menu lists
the run columns plus every param and metric of the runs shown. Each change runs one search in
SQL, so the table stays fast with many runs. The table is also sent as HTML, so front ends
without widgets (GitHub, nbviewer) still show it.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from ...errors import KernelMagicsError

BASE_SORTS = ["start_time", "end_time", "name", "status", "experiment"]
STATUS_COLOURS = {"running": "#1f77b4", "finished": "#2ca02c", "failed": "#d62728",
                  "crashed": "#9467bd", "killed": "#ff7f0e"}  # fmt: skip


def _when(ts: float | None) -> str:
    return "" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def rows_html(rows: list[dict[str, Any]]) -> str:
    """Render run summaries as an HTML table (params and metrics as columns)."""
    if not rows:
        return "<p><em>No runs match.</em></p>"
    param_keys = sorted({k for r in rows for k in r["params"]})[:12]
    metric_keys = sorted({k for r in rows for k in r["metrics"]})[:12]
    head = ["run", "name", "experiment", "status", "started", "duration"]
    head += [f"params.{k}" for k in param_keys] + [f"metrics.{k}" for k in metric_keys]
    out = ["<table class='mlops-runs'><thead><tr>"]
    out += [f"<th>{html.escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        colour = STATUS_COLOURS.get(r["status"], "inherit")
        duration = "" if r["duration"] is None else f"{r['duration']:.1f}s"
        cells = [f"<code>{r['id'][:8]}</code>", html.escape(_fmt(r["name"])),
                 html.escape(_fmt(r["experiment"])),
                 f"<span style='color:{colour}'>{r['status']}</span>",
                 _when(r["start_time"]), duration]  # fmt: skip
        cells += [html.escape(_fmt(r["params"].get(k))) for k in param_keys]
        cells += [html.escape(_fmt(r["metrics"].get(k))) for k in metric_keys]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def rows_text(rows: list[dict[str, Any]]) -> str:
    """Return a plain-text version of the table (for terminals and text/plain)."""
    if not rows:
        return "No runs match."
    lines = [f"{'run':8}  {'status':8}  {'started':19}  name"]
    for r in rows:
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(r["metrics"].items())[:4])
        lines.append(
            f"{r['id'][:8]}  {r['status']:8}  {_when(r['start_time']):19}  {_fmt(r['name'])}"
            + (f"  [{metrics}]" if metrics else "")
        )
    return "\n".join(lines)


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
        from ...core.store.search import search_runs
        from ...core.store.summaries import run_summaries

        order = f"{self.sort.value} {'DESC' if self.descending.value else 'ASC'}"
        try:
            page = search_runs(
                self.store, experiments_=[self.experiment] if self.experiment else None,
                filter=self.filter_box.value.strip() or None, order_by=[order], limit=self.limit,
            )  # fmt: skip
        except KernelMagicsError as exc:
            if raise_errors:
                raise
            self.message.value = f"<pre style='color:#d62728'>{html.escape(str(exc))}</pre>"
            return
        self.rows = run_summaries(self.store, page.run_ids)
        self.message.value = f"<small>{len(self.rows)} runs</small>"
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
