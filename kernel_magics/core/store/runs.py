"""Runs and what hangs off them: params, tags, metrics, status, heartbeats, reaping."""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from ...errors import InvalidParamError, RunNotFoundError, ValidationError
from .db import Database
from .records import RunRecord
from .schema import (
    CRASHED,
    RUN_SOURCES,
    RUNNING,
    TERMINAL_STATUSES,
    artifacts,
    dataset_versions,
    datasets,
    experiments,
    latest_metrics,
    metrics,
    params,
    run_datasets,
    runs,
    tags,
)
from .upsert import upsert

#: A run on another host (or whose pid we cannot check) is crashed after this much silence.
STALE_AFTER_S = 120.0
MAX_VALUE_LEN = 6000
#: The reason a reaped run carries.
CRASHED_ERROR = (
    "The process running this run stopped without ending it "
    "(killed, out of memory, or the machine went down)."
)

HOSTNAME = socket.gethostname()


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers); not worth failing a run for
        return None


def stringify(key: Any, value: Any, kind: str = "param") -> tuple[str, str]:
    """Check a param/tag key and turn its value into the stored string.

    Raises
    ------
    InvalidParamError
        When the key is empty or too long, or the value is too long to store.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > 255:
        raise InvalidParamError(f"A {kind} name must be a non-empty string of at most 255 chars.")
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # np.float64(0.1) is stored as "0.1", not "np.float64(0.1)"
    text = value if isinstance(value, str) else repr(value) if not _is_plain(value) else str(value)
    if len(text) > MAX_VALUE_LEN:
        raise InvalidParamError(
            f"The value of {kind} {key!r} is {len(text)} characters long (the limit is "
            f"{MAX_VALUE_LEN}); log it as an artifact with log_text or log_dict instead."
        )
    return key, text


def _is_plain(value: Any) -> bool:
    return isinstance(value, (int, float, bool)) or value is None


class RunRepository:
    """Create, read, update, delete and reap runs."""

    def __init__(self, db: Database):
        self.db = db

    # -- create ------------------------------------------------------------------------------
    def create(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        source: str = "api",
        parent_run_id: str | None = None,
        notebook_path: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        pid: int | None = None,
        start_time: float | None = None,
        environment_hash: str | None = None,
    ) -> str:
        """Insert a ``running`` run with its initial params and tags; return its id."""
        if source not in RUN_SOURCES:
            raise ValidationError(
                f"Unknown run source {source!r}; one of {', '.join(RUN_SOURCES)}."
            )
        run_id = uuid.uuid4().hex
        now = time.time() if start_time is None else start_time
        row = {
            "id": run_id,
            "experiment_id": experiment_id,
            "name": name,
            "status": RUNNING,
            "source": source,
            "parent_run_id": parent_run_id,
            "notebook_path": notebook_path,
            "start_time": now,
            "heartbeat_at": now,
            "pid": os.getpid() if pid is None else pid,
            "hostname": HOSTNAME,
            "user": _user(),
            "environment_hash": environment_hash,
        }
        with self.db.write() as conn:
            conn.execute(runs.insert(), row)
            if params:
                self._insert_params(conn, run_id, params)
            if tags:
                self._upsert_tags(conn, run_id, tags)
        return run_id

    # -- params and tags ---------------------------------------------------------------------
    def _insert_params(self, conn: Connection, run_id: str, values: Mapping[str, Any]) -> None:
        rows = [
            dict(zip(("key", "value"), stringify(k, v), strict=True)) for k, v in values.items()
        ]
        existing = dict(
            conn.execute(
                select(params.c.key, params.c.value).where(
                    params.c.run_id == run_id, params.c.key.in_([r["key"] for r in rows])
                )
            ).all()
        )
        fresh = []
        for r in rows:
            old = existing.get(r["key"])
            if old is None:
                fresh.append({"run_id": run_id, **r})
            elif old != r["value"]:
                raise InvalidParamError(
                    f"Param {r['key']!r} of run {run_id[:8]} is already {old!r}; params are "
                    f"immutable, so {r['value']!r} was not stored. Start a new run to change it, "
                    "or record changing values as metrics or tags."
                )
        if fresh:
            conn.execute(params.insert(), fresh)

    def _upsert_tags(self, conn: Connection, run_id: str, values: Mapping[str, Any]) -> None:
        rows = []
        for k, v in values.items():
            key, text = stringify(k, v, "tag")
            rows.append({"run_id": run_id, "key": key, "value": text})
        upsert(conn, tags, rows, ["run_id", "key"], ["value"])

    def log_params(self, run_id: str, values: Mapping[str, Any]) -> None:
        """Record params (immutable: a different value for a logged key is an error)."""
        if values:
            with self.db.write() as conn:
                self._require_exists(conn, run_id)
                self._insert_params(conn, run_id, values)

    def set_tags(self, run_id: str, values: Mapping[str, Any]) -> None:
        """Set (or overwrite) tags."""
        if values:
            with self.db.write() as conn:
                self._require_exists(conn, run_id)
                self._upsert_tags(conn, run_id, values)

    # -- metrics -------------------------------------------------------------------------------
    def write_metrics(
        self, conn: Connection, points: Sequence[tuple[str, str, int, float, float]]
    ) -> None:
        """Append metric points ``(run_id, key, step, timestamp, value)`` and update latest values.

        Called by the flusher inside its one transaction per flush.
        """
        if not points:
            return
        latest: dict[tuple[str, str], tuple] = {}
        for point in points:  # in logging order, so the last one wins
            current = latest.get((point[0], point[1]))
            if current is None or point[2] >= current[2]:
                latest[(point[0], point[1])] = point
        names = ("run_id", "key", "step", "timestamp", "value")
        upsert(
            conn,
            latest_metrics,
            [dict(zip(names, p, strict=True)) for p in latest.values()],
            ["run_id", "key"],
            ["value", "step", "timestamp"],
            only_if_newer="step",
        )
        # Look the series ids up inside this transaction (never cached across transactions: a
        # rolled-back insert's id could be handed to another series later).
        run_ids = {run_id for run_id, _ in latest}
        series = {
            (r.run_id, r.key): r.id
            for r in conn.execute(
                select(latest_metrics.c.id, latest_metrics.c.run_id, latest_metrics.c.key).where(
                    latest_metrics.c.run_id.in_(run_ids)
                )
            )
        }
        rows = [(series[(p[0], p[1])], p[2], p[3], p[4]) for p in points]
        # The driver's executemany with plain tuples: the hot path, 3x faster than building a
        # dict per point for SQLAlchemy's executemany.
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(
            f"INSERT INTO metrics (series_id, step, timestamp, value) "
            f"VALUES ({mark}, {mark}, {mark}, {mark})",
            rows,
        )

    def metric_history(self, run_id: str, key: str, max_points: int | None = None) -> list[dict]:
        """Return the points of one metric in step order, evenly thinned to ``max_points``.

        Thinning happens in SQL (every n-th row by step) and always keeps the last point.
        """
        with self.db.read() as conn:
            self._require_exists(conn, run_id)
            series_id = conn.execute(
                select(latest_metrics.c.id).where(
                    latest_metrics.c.run_id == run_id, latest_metrics.c.key == key
                )
            ).scalar()
            where = metrics.c.series_id == series_id
            count = select(func.count()).select_from(metrics).where(where)
            total = conn.execute(count).scalar_one()
            cols = [metrics.c.step, metrics.c.timestamp, metrics.c.value]
            query = select(*cols).where(where).order_by(metrics.c.step, metrics.c.timestamp)
            if max_points and total > max_points:
                # One slot is kept for the last point, so at most max_points come back.
                stride = -(-total // max(max_points - 1, 1))
                ranked = (
                    select(
                        *cols,
                        func.row_number()
                        .over(order_by=(metrics.c.step, metrics.c.timestamp))
                        .label("rn"),
                    )
                    .where(where)
                    .subquery()
                )
                query = (
                    select(ranked.c.step, ranked.c.timestamp, ranked.c.value)
                    .where(((ranked.c.rn - 1) % stride == 0) | (ranked.c.rn == total))
                    .order_by(ranked.c.rn)
                )
            rows = conn.execute(query).all()
        return [{"step": r.step, "timestamp": r.timestamp, "value": r.value} for r in rows]

    def metric_keys(self, run_id: str) -> list[str]:
        """Names of the metrics a run logged."""
        with self.db.read() as conn:
            query = select(latest_metrics.c.key).where(latest_metrics.c.run_id == run_id)
            return sorted(conn.execute(query).scalars())

    # -- status ------------------------------------------------------------------------------
    def heartbeat(self, conn: Connection, run_ids: Iterable[str], now: float) -> None:
        """Mark runs alive (inside the flusher's transaction)."""
        ids = list(run_ids)
        if ids:
            conn.execute(
                update(runs)
                .where(runs.c.id.in_(ids), runs.c.status == RUNNING)
                .values(heartbeat_at=now)
            )

    def end(
        self,
        run_ids: str | Sequence[str],
        status: str,
        *,
        error: str | None = None,
        end_time: float | None = None,
        at_last_heartbeat: bool = False,
        conn: Connection | None = None,
    ) -> list[str]:
        """End running runs with a terminal status: the one writer of ``runs.status``.

        Finishing a run, reaping a dead one and the scheduler's crash marking all come here, so
        a run leaves ``running`` exactly once and always with its end time and reason.

        Parameters
        ----------
        run_ids : str or sequence of str
            The runs to end; those that are no longer ``running`` are left as they are.
        status : str
            One of :data:`~kernel_magics.core.names.TERMINAL_STATUSES`.
        error : str, optional
            Why the run ended that way (shown in ``mlops runs show`` and the panel).
        end_time : float, optional
            UTC epoch seconds; now by default.
        at_last_heartbeat : bool
            End the run at its last heartbeat instead (a crashed run stopped living then).
        conn : Connection, optional
            Write inside the caller's transaction instead of a new one.

        Returns
        -------
        list of str
            The ids whose status this call changed.
        """
        if status not in TERMINAL_STATUSES:
            raise ValidationError(
                f"Unknown end status {status!r}; one of {', '.join(TERMINAL_STATUSES)}."
            )
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        if not ids:
            return []
        now = time.time() if end_time is None else end_time
        values: dict[str, Any] = {"status": status, "error": error}
        if at_last_heartbeat:
            values["end_time"] = func.coalesce(runs.c.heartbeat_at, now)
        else:
            values.update(end_time=now, heartbeat_at=now)
        if conn is None:
            with self.db.write() as own:
                return self._end(own, ids, values)
        return self._end(conn, ids, values)

    @staticmethod
    def _end(conn: Connection, ids: list[str], values: dict[str, Any]) -> list[str]:
        running = [
            row.id
            for row in conn.execute(
                select(runs.c.id).where(runs.c.id.in_(ids), runs.c.status == RUNNING)
            )
        ]
        if running:
            conn.execute(
                update(runs)
                .where(runs.c.id.in_(running), runs.c.status == RUNNING)
                .values(**values)
            )
        return running

    def finish(self, run_id: str, status: str, error: str | None = None) -> bool:
        """End a running run with a terminal status; return False if it had already ended."""
        with self.db.write() as conn:
            done = self.end(run_id, status, error=error, conn=conn)
            if not done:
                self._require_exists(conn, run_id)
        return bool(done)

    def set_fields(self, run_id: str, **values: Any) -> None:
        """Update columns of a run (notebook version, environment, name, parent...)."""
        allowed = {
            "name",
            "notebook_path",
            "notebook_version_id",
            "environment_hash",
            "parent_run_id",
            "error",
        }
        unknown = set(values) - allowed
        if unknown:
            raise ValidationError(f"Cannot set run fields {sorted(unknown)}.")
        with self.db.write() as conn:
            if not conn.execute(update(runs).where(runs.c.id == run_id).values(**values)).rowcount:
                raise RunNotFoundError(f"No run with id {run_id!r}.")

    def reap(self, now: float | None = None, stale_after: float = STALE_AFTER_S) -> list[str]:
        """Mark ``crashed`` every running run whose process is gone.

        A run on this host is dead when its pid no longer exists or now belongs to a process
        started after the run (pid reuse). A run on another host is dead when its heartbeat is
        older than ``stale_after`` seconds.
        """
        now = time.time() if now is None else now
        with self.db.read() as conn:
            candidates = conn.execute(
                select(
                    runs.c.id, runs.c.pid, runs.c.hostname, runs.c.heartbeat_at, runs.c.start_time
                ).where(runs.c.status == RUNNING)
            ).all()
        dead = [r.id for r in candidates if _is_dead(r, now, stale_after)]
        crashed: list[str] = []
        for run_id in dead:  # one transaction each: a long reap never holds the write lock
            crashed += self.end(
                run_id, CRASHED, error=CRASHED_ERROR, end_time=now, at_last_heartbeat=True
            )
        return crashed

    # -- read ----------------------------------------------------------------------------------
    def _require_exists(self, conn: Connection, run_id: str) -> None:
        if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
            raise RunNotFoundError(
                f"No run with id {run_id!r}. List runs with `mlops runs ls` or mlops.runs()."
            )

    def resolve_id(self, run_id: str) -> str:
        """Expand a unique id prefix (at least 4 characters) to the full run id."""
        run_id = (run_id or "").strip().lower()
        if len(run_id) == 32:
            with self.db.read() as conn:
                self._require_exists(conn, run_id)
            return run_id
        if len(run_id) < 4 or not all(c in "0123456789abcdef" for c in run_id):
            raise RunNotFoundError(
                f"{run_id!r} is not a run id: give the full id or its first 4+ hex characters."
            )
        with self.db.read() as conn:
            found = (
                conn.execute(select(runs.c.id).where(runs.c.id.like(run_id + "%")).limit(2))
                .scalars()
                .all()
            )
        if len(found) != 1:
            raise RunNotFoundError(
                f"No run id starts with {run_id!r}."
                if not found
                else f"Several runs start with {run_id!r}; give more characters."
            )
        return found[0]

    def get(self, run_id: str) -> RunRecord:
        """Return one run with its params, latest metrics, tags, artifacts and datasets."""
        run_id = self.resolve_id(run_id)
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(runs, experiments.c.name.label("experiment"))
                    .join(experiments, experiments.c.id == runs.c.experiment_id)
                    .where(runs.c.id == run_id)
                )
                .mappings()
                .first()
            )
            if row is None:
                raise RunNotFoundError(f"No run with id {run_id!r}.")
            record = RunRecord(**dict(row))
            record.params = dict(
                conn.execute(
                    select(params.c.key, params.c.value).where(params.c.run_id == run_id)
                ).all()
            )
            record.tags = dict(
                conn.execute(select(tags.c.key, tags.c.value).where(tags.c.run_id == run_id)).all()
            )
            record.metrics = dict(
                conn.execute(
                    select(latest_metrics.c.key, latest_metrics.c.value).where(
                        latest_metrics.c.run_id == run_id
                    )
                ).all()
            )
            record.artifacts = [
                dict(r)
                for r in conn.execute(
                    select(
                        artifacts.c.path,
                        artifacts.c.size,
                        artifacts.c.media_type,
                        artifacts.c.blob_hash,
                    )
                    .where(artifacts.c.run_id == run_id)
                    .order_by(artifacts.c.path)
                ).mappings()
            ]
            record.datasets = [
                dict(r)
                for r in conn.execute(
                    select(
                        datasets.c.name,
                        dataset_versions.c.id.label("version_id"),
                        dataset_versions.c.hash,
                        dataset_versions.c.rows,
                        dataset_versions.c.size,
                        dataset_versions.c.schema,
                        dataset_versions.c.source,
                        run_datasets.c.role,
                    )
                    .select_from(run_datasets.join(dataset_versions).join(datasets))
                    .where(run_datasets.c.run_id == run_id)
                    .order_by(datasets.c.name)
                ).mappings()
            ]
        return record

    def delete(self, run_id: str) -> list[str]:
        """Delete a run and its child runs with everything they logged; return the ids removed.

        Blobs stay until ``mlops gc`` removes the ones nothing references any more.
        """
        run_id = self.resolve_id(run_id)
        with self.db.write() as conn:
            self._require_exists(conn, run_id)
            ids, frontier = [run_id], [run_id]
            while frontier:
                frontier = list(
                    conn.execute(
                        select(runs.c.id).where(runs.c.parent_run_id.in_(frontier))
                    ).scalars()
                )
                ids.extend(frontier)
            series = select(latest_metrics.c.id).where(latest_metrics.c.run_id.in_(ids))
            conn.execute(delete(metrics).where(metrics.c.series_id.in_(series)))
            for table in (latest_metrics, params, tags, artifacts, run_datasets):
                conn.execute(delete(table).where(table.c.run_id.in_(ids)))
            conn.execute(
                update(runs).where(runs.c.parent_run_id.in_(ids)).values(parent_run_id=None)
            )
            conn.execute(delete(runs).where(runs.c.id.in_(ids)))
        return ids


def _is_dead(row: Any, now: float, stale_after: float) -> bool:
    if row.hostname == HOSTNAME and row.pid:
        import psutil

        try:
            process = psutil.Process(row.pid)
            if process.status() == psutil.STATUS_ZOMBIE:  # exited, not yet waited for
                return True
            started = process.create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return True
        except psutil.AccessDenied:
            return (now - (row.heartbeat_at or row.start_time)) > stale_after
        # A pid reused by a process that started after the run is not the run's process.
        return started > row.start_time + 1.0
    return (now - (row.heartbeat_at or row.start_time)) > stale_after
