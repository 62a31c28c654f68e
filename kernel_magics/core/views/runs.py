"""Run listings and one run in full, as display-ready tables (``mlops runs``, ``%mlops runs``).

Rows come from one search (:func:`~kernel_magics.core.store.search.search_runs`) and one batch
read (:func:`~kernel_magics.core.store.summaries.run_summaries`): a handful of queries whatever
the page size, and no pandas, so ``mlops runs ls`` starts fast.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..names import Tag, run_warnings
from .formatting import duration, short_id, value, when
from .table import Column, Page, Table, key_value, table

if TYPE_CHECKING:
    from ..store import Store
    from ..store.records import RunRecord
    from ..store.run_reads import RunReads

#: The run attributes of a listing's JSON records, in order (``mlflow.search_runs`` style).
BASE_FIELDS = ("run_id", "experiment", "name", "status", "source", "start_time", "end_time",
               "parent_run_id", "notebook_path")  # fmt: skip


def list_runs(
    store: Store,
    experiments: list[str] | None = None,
    filter: str | None = None,
    order_by: list[str] | str | None = None,
    limit: int | None = None,
    warnings: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Search runs and return their summaries (newest first unless ``order_by`` says).

    Parameters
    ----------
    store : Store
    experiments : list of str, optional
        Only runs of these experiments; an unknown name is an error naming the known ones.
    filter : str, optional
        A filter expression (``metrics.acc > 0.9``).
    order_by : list of str, optional
        ``field [ASC|DESC]`` items.
    limit : int, optional
    warnings : list, optional
        Receives the search's warnings (a filter on a metric no run has, with close names).

    Returns
    -------
    list of dict
        :func:`~kernel_magics.core.store.summaries.run_summaries` rows.
    """
    from ..store.search import search_runs
    from ..store.summaries import run_summaries

    for name in experiments or ():
        store.experiments.id_of(name)  # a typo is an error naming the known experiments
    page = search_runs(
        store, experiments_=experiments, filter=filter, order_by=order_by, limit=limit
    )
    if warnings is not None:
        warnings.extend(page.warnings)
    return run_summaries(store, page.run_ids)


def runs_table(rows: list[dict[str, Any]], keys: int = 4) -> Table:
    """The runs listing: id, experiment, name, status, times, then metrics and params.

    Parameters
    ----------
    rows : list of dict
        Run summaries (:func:`list_runs`).
    keys : int
        At most this many metric and this many param columns (the first ones by name).

    Metrics rank above params and the start time, so a narrow terminal keeps what tells runs
    apart; within each, the first columns rank highest.
    """
    metric_keys = sorted({k for r in rows for k in r["metrics"]})[:keys]
    param_keys = sorted({k for r in rows for k in r["params"]})[:keys]
    columns = [Column("Run", "id", 100), Column("Experiment", priority=50),
               Column("Name", priority=80), Column("Status", "status", 90),
               Column("Started", "time", 60), Column("Duration", "time", 45)]  # fmt: skip
    columns += [Column(f"metrics.{k}", "number", 70 - i) for i, k in enumerate(metric_keys)]
    columns += [Column(f"params.{k}", priority=40 - i) for i, k in enumerate(param_keys)]
    body = [
        [short_id(r["id"]), r["experiment"], value(r["name"]), r["status"],
         when(r["start_time"]), duration(r["duration"])]
        + [value(r["metrics"].get(k)) for k in metric_keys]
        + [value(r["params"].get(k)) for k in param_keys]
        for r in rows
    ]  # fmt: skip
    return Table(columns, body, note="" if rows else "No runs match.")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    moment = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def runs_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat JSON records, one per run, for ``mlops runs ls --json``.

    Each has :data:`BASE_FIELDS`, then ``params.*``, ``metrics.*`` and ``tags.*`` (null where a
    run lacks a key); times in ISO 8601 UTC. The same shape as ``mlops.runs()``'s DataFrame,
    so scripts read both alike.
    """
    names = sorted(
        {f"{kind}.{k}" for r in rows for kind in ("params", "metrics", "tags") for k in r[kind]},
        key=lambda c: (not c.startswith("params."), c),
    )
    records = []
    for r in rows:
        record: dict[str, Any] = {"run_id": r["id"], **{f: r[f] for f in BASE_FIELDS[1:]}}
        record["start_time"], record["end_time"] = _iso(r["start_time"]), _iso(r["end_time"])
        for name in names:
            kind, _, key = name.partition(".")
            record[name] = r[kind].get(key)
        records.append(record)
    return records


def run_view(reads: RunReads, record: RunRecord) -> Page:
    """Lay one run out for ``mlops runs show`` and ``%mlops show``.

    ``reads`` (``store.run_reads()``, or the quick reads of ``mlops runs show``) finds the
    child runs.

    The tables are Params, Metrics, Tags, Artifacts, Datasets and, for a parent run (a sweep),
    Child runs with their status and the sweep's objective metric; empty ones are left out.
    """
    r = record
    fields = [("Experiment", r.experiment), ("Status", r.status), ("Source", r.source),
              ("Started", when(r.start_time)), ("Duration", duration(r.duration)),
              ("Notebook", r.notebook_path or ""),
              ("Parent run", short_id(r.parent_run_id))]  # fmt: skip
    tables = [key_value("Params", {k: value(v) for k, v in r.params.items()}),
              key_value("Metrics", {k: value(v) for k, v in r.metrics.items()}),
              key_value("Tags", r.tags),
              table([Column("Path", priority=90), "Size", "Type"],
                    [(a["path"], a["size"], a["media_type"]) for a in r.artifacts], "Artifacts"),
              table(["Name", "Role", "Rows", Column("Hash", "id")],
                    [(d["name"], d["role"], d["rows"], d["hash"][:12]) for d in r.datasets],
                    "Datasets"),
              child_runs(reads, r)]  # fmt: skip
    return Page(
        title=f"Run {r.id}  {r.name or ''}".rstrip(),
        fields=[(k, v) for k, v in fields if v],
        tables=[t for t in tables if t.rows],
        warnings=run_warnings(r.tags),
        error=r.error,
    )


def objective_metric(tags: dict[str, str]) -> str | None:
    """The metric a sweep optimises (``max metrics.acc`` -> ``acc``), None without one."""
    objective = tags.get(Tag.SWEEP_OBJECTIVE) or ""
    _, _, name = objective.partition("metrics.")
    return name or None


def child_runs(reads: RunReads, parent: RunRecord, keys: int = 4) -> Table:
    """The children of ``parent`` (a sweep's runs), in start order.

    Columns: status, the params that differ between children, the sweep's objective metric
    (else the children's first metrics), duration, and which child is the best.
    """
    # Newest first from the search, shown in start order (a sweep's grid order).
    rows = reads.summaries(reads.child_ids(parent.id)[::-1])
    if not rows:
        return Table([], title="Child runs")
    objective = objective_metric(parent.tags)
    metric_keys = [objective] if objective else sorted({k for r in rows for k in r["metrics"]})
    swept = sorted(k for k in {k for r in rows for k in r["params"]}
                   if len({r["params"].get(k) for r in rows}) > 1)[:keys]  # fmt: skip
    best = parent.tags.get(Tag.BEST_RUN_ID)
    columns = [Column("Run", "id", 100), Column("Status", "status", 90)]
    columns += [Column(f"params.{k}", priority=70 - i) for i, k in enumerate(swept)]
    columns += [Column(f"metrics.{k}", "number", 80 - i) for i, k in enumerate(metric_keys[:keys])]
    columns.append(Column("Duration", "time", 40))
    body = [
        [short_id(r["id"]), r["status"]]
        + [value(r["params"].get(k)) for k in swept]
        + [value(r["metrics"].get(k)) for k in metric_keys[:keys]]
        + [duration(r["duration"])]
        for r in rows
    ]
    if best:
        columns.append(Column("Best", priority=60))
        for r, row in zip(rows, body, strict=True):
            row.append("best" if r["id"] == best else "")
    note = f"objective: {parent.tags[Tag.SWEEP_OBJECTIVE]}" if objective else ""
    return Table(columns, body, title=f"Child runs ({len(rows)})", note=note)
