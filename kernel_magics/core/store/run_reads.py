"""Run reads assembled once, over any way of executing :mod:`.read_statements`.

:class:`RunReads` turns the rows of the named read statements into run records and table rows.
The store runs it over SQLAlchemy (:meth:`Store.run_reads`); :mod:`.quick_reads` runs the very
same code over :mod:`sqlite3` with the statements compiled ahead of time, so ``mlops runs ls``
and ``mlops runs show`` answer without importing SQLAlchemy. This module imports neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ...errors import RunNotFoundError
from ..names import RUNNING
from .liveness import STALE_AFTER_S, process_gone, show_crashed
from .records import RunRecord

#: ``fetch(statement_name, params)`` -> the rows as mappings.
Fetch = Callable[[str, dict[str, Any]], Sequence[Mapping[str, Any]]]

#: SQLite's bound-parameter limit is 999 in old builds; stay below it.
CHUNK = 900
_HEX = frozenset("0123456789abcdef")


class RunReads:
    """Reads of runs for tables and detail views, over one ``fetch``.

    Parameters
    ----------
    fetch : Fetch
        Executes a statement of :data:`~.read_statements.STATEMENTS` by name.
    """

    def __init__(self, fetch: Fetch):
        self.fetch = fetch

    def newest_ids(self, limit: int) -> list[str]:
        """The ids of the ``limit`` newest runs."""
        return [r["id"] for r in self.fetch("newest_run_ids", {"limit": limit})]

    def child_ids(self, parent_id: str) -> list[str]:
        """The ids of ``parent_id``'s child runs, newest first."""
        return [r["id"] for r in self.fetch("child_run_ids", {"parents": [parent_id]})]

    def dead(
        self, run_ids: Iterable[str], now: float | None = None, stale_after: float = STALE_AFTER_S
    ) -> dict[str, float]:
        """Which of ``run_ids`` are ``running`` with their process gone, and when it stopped."""
        now = time.time() if now is None else now
        ids = list(run_ids)
        found: dict[str, float] = {}
        for start in range(0, len(ids), CHUNK):
            for r in self.fetch("running_runs", {"ids": ids[start : start + CHUNK]}):
                if process_gone(r, now, stale_after):
                    found[r["id"]] = r["heartbeat_at"] or r["start_time"]
        return found

    def summaries(self, run_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Table rows for ``run_ids``, in that order (see :func:`.summaries.run_summaries`)."""
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(run_ids), CHUNK):
            chunk = list(run_ids[start : start + CHUNK])
            for r in self.fetch("run_summary_rows", {"ids": chunk}):
                row = dict(r)
                end = row["end_time"]
                row["duration"] = None if end is None else end - row["start_time"]
                row.update(params={}, metrics={}, tags={})
                rows[row["id"]] = row
            for run_id, stopped_at in self.dead(chunk).items():
                show_crashed(rows[run_id], stopped_at)
            for name, statement in (("params", "params_of_runs"),
                                    ("metrics", "latest_metrics_of_runs"),
                                    ("tags", "tags_of_runs")):  # fmt: skip
                for point in self.fetch(statement, {"ids": chunk}):
                    rows[point["run_id"]][name][point["key"]] = point["value"]
        return [rows[i] for i in run_ids if i in rows]

    def resolve(self, ref: str) -> str:
        """Expand a unique id prefix (at least 4 hex characters) to the full run id.

        Raises
        ------
        RunNotFoundError
            When nothing, or more than one run, matches.
        """
        ref = (ref or "").strip().lower()
        if len(ref) < 4 or not _HEX.issuperset(ref):
            raise RunNotFoundError(
                f"{ref!r} is not a run id: give the full id or its first 4+ hex characters."
            )
        found = [r["id"] for r in self.fetch("run_ids_like", {"pattern": ref + "%"})]
        if len(ref) == 32 and found != [ref]:
            raise RunNotFoundError(
                f"No run with id {ref!r}. List runs with `mlops runs ls` or mlops.runs()."
            )
        if len(found) != 1:
            raise RunNotFoundError(
                f"No run id starts with {ref!r}."
                if not found
                else f"Several runs start with {ref!r}; give more characters."
            )
        return found[0]

    def resolve_ref(self, ref: str) -> str:
        """Resolve a full id, a 4+ character prefix, or ``last`` (the newest run).

        Raises
        ------
        RunNotFoundError
            When nothing (or more than one run) matches.
        """
        if ref.strip().lower() == "last":
            newest = self.newest_ids(1)
            if not newest:
                raise RunNotFoundError("There are no runs yet; track a cell with %%mlops track.")
            return newest[0]
        return self.resolve(ref)

    def run(self, run_id: str) -> RunRecord:
        """One run (a full id) with its params, latest metrics, tags, artifacts and datasets."""
        rows = self.fetch("run_row", {"run_id": run_id})
        if not rows:
            raise RunNotFoundError(f"No run with id {run_id!r}.")
        values = dict(rows[0])
        if values["status"] == RUNNING and process_gone(values, time.time()):
            show_crashed(values, values["heartbeat_at"] or values["start_time"])
        record = RunRecord(**values)
        ids = {"ids": [run_id]}
        record.params = {r["key"]: r["value"] for r in self.fetch("params_of_runs", ids)}
        record.tags = {r["key"]: r["value"] for r in self.fetch("tags_of_runs", ids)}
        record.metrics = {r["key"]: r["value"] for r in self.fetch("latest_metrics_of_runs", ids)}
        by_run = {"run_id": run_id}
        record.artifacts = [dict(r) for r in self.fetch("run_artifacts", by_run)]
        record.datasets = [dict(r) for r in self.fetch("run_dataset_rows", by_run)]
        return record
