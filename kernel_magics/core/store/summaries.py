"""Compact rows for run tables: one page of runs with their params and latest metrics.

The side panel and the REST API list runs a page at a time. :func:`run_summaries` turns the ids
a search returned into table rows with four queries whatever the page size (runs, params,
latest metrics, tags), instead of one :meth:`RunRepository.get` per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .liveness import show_crashed
from .schema import experiments, latest_metrics, params, runs, tags

if TYPE_CHECKING:
    from . import Store

#: SQLite's bound-parameter limit is 999 in old builds; stay below it.
_CHUNK = 900


def run_summaries(store: Store, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Return table rows for ``run_ids``, in that order.

    Parameters
    ----------
    store : Store
        The store to read.
    run_ids : sequence of str
        Full run ids, usually one page of :func:`~.search.search_runs`.

    Returns
    -------
    list of dict
        ``id, name, experiment, status, source, start_time, end_time, duration,
        notebook_path, notebook_version_id, parent_run_id, params, metrics, tags`` per run;
        ids that no longer exist are skipped. A running run whose process is gone is shown
        ``crashed`` (as every read shows it; nothing is written).
    """
    rows: dict[str, dict[str, Any]] = {}
    columns = (
        runs.c.id, runs.c.name, experiments.c.name.label("experiment"), runs.c.status,
        runs.c.source, runs.c.start_time, runs.c.end_time, runs.c.notebook_path,
        runs.c.notebook_version_id, runs.c.parent_run_id, runs.c.user,
    )  # fmt: skip
    with store.db.read() as conn:
        for start in range(0, len(run_ids), _CHUNK):
            chunk = list(run_ids[start : start + _CHUNK])
            query = (
                select(*columns)
                .join(experiments, experiments.c.id == runs.c.experiment_id)
                .where(runs.c.id.in_(chunk))
            )
            for r in conn.execute(query).mappings():
                row = dict(r)
                end = row["end_time"]
                row["duration"] = None if end is None else end - row["start_time"]
                row.update(params={}, metrics={}, tags={})
                rows[row["id"]] = row
            for run_id, stopped_at in store.runs.dead_runs(chunk, conn=conn).items():
                show_crashed(rows[run_id], stopped_at)
            for name, table in (("params", params), ("metrics", latest_metrics), ("tags", tags)):
                query = select(table.c.run_id, table.c.key, table.c.value).where(
                    table.c.run_id.in_(chunk)
                )
                for point in conn.execute(query):
                    rows[point.run_id][name][point.key] = point.value
    return [rows[i] for i in run_ids if i in rows]
