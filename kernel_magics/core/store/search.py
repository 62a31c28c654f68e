"""Search runs with the filter language of :mod:`.filters`, executed in SQL, without writing.

``search_runs`` returns one page of run ids (with warnings such as "no run has a metric named
'acuracy'; did you mean metrics.accuracy?"); ``runs_frame`` turns ids into the
``mlflow.search_runs``-style DataFrame. Both show a running run whose process is gone as
``crashed``, like every read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, select

from ..names import CRASHED
from .filters import ATTRIBUTES, ENTITIES, Field, parse_filter, parse_order_by
from .read_statements import NEWEST_FIRST, run_search_base
from .schema import experiments, runs

if TYPE_CHECKING:
    from . import Store

#: ``parse_filter`` is imported from here by callers that validate a filter before searching.
__all__ = ["RunPage", "parse_filter", "runs_frame", "search_runs", "shown_status"]


@dataclass
class RunPage:
    """One page of search results: run ids in order and the total number that matched.

    ``warnings`` says what may explain a surprising result, such as a filter on a metric no run
    has logged (with the closest known names); views print it next to the table.
    """

    run_ids: list[str]
    total: int
    warnings: list[str] = dataclass_field(default_factory=list)


def shown_status(dead: Mapping[str, float]) -> Any:
    """The status column as reads show it: ``crashed`` for the ``dead`` running runs."""
    if not dead:
        return runs.c.status
    return case((runs.c.id.in_(list(dead)), literal(CRASHED)), else_=runs.c.status)


def search_runs(
    store: Store,
    *,
    experiments_: list[str] | None = None,
    notebook_paths: list[str] | None = None,
    parent_run_ids: list[str] | None = None,
    filter: str | None = None,
    order_by: list[str] | str | None = None,
    limit: int | None = None,
    offset: int = 0,
    count: bool = False,
) -> RunPage:
    """Find runs matching a filter, ordered, paginated; all in SQL, and without writing.

    A running run whose process is gone is found (and sorted) as ``crashed``, the status every
    read shows for it.

    Parameters
    ----------
    experiments_ : list of str, optional
        Experiment names to search (all experiments when omitted).
    notebook_paths : list of str, optional
        Only runs of these notebooks (bound as parameters: any character is safe).
    parent_run_ids : list of str, optional
        Only the child runs of these runs (a sweep's children).
    filter : str, optional
        A filter expression (see the module docstring).
    order_by : list of str, optional
        Sort keys, each ``field [ASC|DESC]``; newest first by default.
    limit, offset : int
        Pagination.
    count : bool
        Also count every match (one more query).

    Returns
    -------
    RunPage
        With a warning for each metric, param or tag name no run has.
    """
    attributes = {**ATTRIBUTES, "status": shown_status(store.runs.dead_runs())}
    fields: list[Field] = []
    clause = parse_filter(filter, attributes=attributes, fields=fields)
    where = [clause] if clause is not None else []
    query = run_search_base()
    if experiments_:
        query = query.where(experiments.c.name.in_(experiments_))
    if notebook_paths:
        query = query.where(runs.c.notebook_path.in_(notebook_paths))
    if parent_run_ids:
        query = query.where(runs.c.parent_run_id.in_(parent_run_ids))
    query = query.where(*where)
    count_query = select(func.count()).select_from(query.subquery()) if count else None
    orderings: list[Any] = []
    for fld, descending in parse_order_by(order_by):
        fields.append(fld)
        if fld.entity == "attributes":
            col = attributes[fld.key]
        else:
            table = ENTITIES[fld.entity].alias()
            query = query.outerjoin(
                table, and_(table.c.run_id == runs.c.id, table.c.key == fld.key)
            )
            col = table.c.value
        orderings.append(col.desc().nulls_last() if descending else col.asc().nulls_last())
    orderings += NEWEST_FIRST
    query = query.order_by(*orderings).offset(offset or None)
    if limit is not None:
        query = query.limit(limit)
    with store.db.read() as conn:
        ids = list(conn.execute(query).scalars())
        total = conn.execute(count_query).scalar_one() if count_query is not None else len(ids)
        warnings = unknown_names(conn, fields)
    return RunPage(ids, total, warnings)


#: How a warning names each entity.
_SINGULAR = {"metrics": "metric", "params": "param", "tags": "tag"}


def unknown_names(conn: Any, fields: list[Field]) -> list[str]:
    """Say which metric, param or tag names in ``fields`` no run has, with close known names.

    A filter on such a name matches nothing, which looks like "no run qualifies" unless said.
    """
    import difflib

    found = []
    for fld in dict.fromkeys(f for f in fields if f.entity in _SINGULAR):
        table = ENTITIES[fld.entity]
        if conn.execute(select(table.c.key).where(table.c.key == fld.key).limit(1)).first():
            continue
        known = sorted(conn.execute(select(table.c.key).distinct()).scalars())
        close = difflib.get_close_matches(fld.key, known, n=3, cutoff=0.6)
        kind = _SINGULAR[fld.entity]
        if close:
            hint = "did you mean " + " or ".join(f"{fld.entity}.{k}" for k in close) + "?"
        elif known:
            shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            hint = f"known {kind} names: {shown}"
        else:
            hint = f"no run has logged any {kind} yet"
        found.append(f"No run has a {kind} named {fld.key!r}, so nothing matches it; {hint}")
    return found


def runs_frame(store: Store, run_ids: list[str]):
    """Build the ``mlflow.search_runs``-style DataFrame for ``run_ids`` (in that order).

    The rows are :func:`~.summaries.run_summaries`, the same batch read every runs table uses
    (dead runs shown ``crashed`` there), spread into ``params.*``, ``metrics.*`` (floats) and
    ``tags.*`` columns.
    """
    import pandas as pd

    from .summaries import run_summaries

    base_cols = ["run_id", "experiment", "name", "status", "source", "start_time", "end_time",
                 "parent_run_id", "notebook_path"]  # fmt: skip
    records = []
    for row in run_summaries(store, run_ids):
        record = {"run_id": row["id"], **{c: row[c] for c in base_cols[1:]}}
        for kind in ("params", "metrics", "tags"):
            record.update({f"{kind}.{k}": v for k, v in row[kind].items()})
        records.append(record)
    if not records:
        return pd.DataFrame(columns=base_cols)
    frame = pd.DataFrame.from_records(records)
    extra = sorted(set(frame.columns) - set(base_cols),
                   key=lambda c: (c.split(".")[0] != "params", c))  # fmt: skip
    frame = frame[base_cols + extra]
    metric_cols = [c for c in extra if c.startswith("metrics.")]
    frame[metric_cols] = frame[metric_cols].astype("float64")
    for col in ("start_time", "end_time"):
        frame[col] = pd.to_datetime(frame[col], unit="s", utc=True)
    return frame
