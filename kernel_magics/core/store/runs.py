"""Runs and what hangs off them: params, tags, metrics, status, heartbeats, reaping.

Reads never write. A ``running`` run whose process is gone (the rule of
:func:`~.liveness.process_gone`) is *shown* as ``crashed`` by every read
(:meth:`RunRepository.get`, the search, run tables), ended at its last heartbeat;
:meth:`RunRepository.reap` persists that status, and only the writers call it (the background
writer's timer, ``mlops runs reap``, the scheduler). So a read-only replica or a
read-only database user can serve every view, and no view ever shows a dead run as running.
"""

from __future__ import annotations

import getpass
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from ...errors import RunNotFoundError, RunStillRunningError, ValidationError
from ..names import CRASHED, NOTE_RUN, RUN_SOURCES, RUNNING, SOURCE_API, TERMINAL_STATUSES
from .artifacts import register_blob
from .blobs import BlobRef
from .db import Database
from .liveness import CRASHED_ERROR, HOSTNAME, STALE_AFTER_S, process_gone
from .notes import delete_notes_of
from .read_statements import sqlalchemy_fetch
from .records import RunRecord
from .run_metrics import RunMetricsMixin
from .run_reads import RunReads
from .run_values import RunValuesMixin, require_run
from .schema import (
    artifacts,
    latest_metrics,
    metrics,
    params,
    run_datasets,
    runs,
    tags,
)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers); not worth failing a run for
        return None


class RunRepository(RunValuesMixin, RunMetricsMixin):
    """Create, read, update, delete and reap runs."""

    def __init__(self, db: Database):
        self.db = db

    # -- create ------------------------------------------------------------------------------
    def create(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        source: str = SOURCE_API,
        parent_run_id: str | None = None,
        notebook_path: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        pid: int | None = None,
        start_time: float | None = None,
        environment_hash: str | None = None,
        user: str | None = None,
    ) -> str:
        """Insert a ``running`` run with its initial params and tags; return its id.

        ``user`` defaults to the login name of this process (an importer passes the original).
        """
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
            "user": _user() if user is None else user,
            "environment_hash": environment_hash,
        }
        with self.db.write() as conn:
            conn.execute(runs.insert(), row)
            if params:
                self._insert_params(conn, run_id, params)
            if tags:
                self._upsert_tags(conn, run_id, tags)
        return run_id

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
        if len(ids) == 1:  # the common case (a run ending, one reaped run): one statement
            changed = conn.execute(
                update(runs).where(runs.c.id == ids[0], runs.c.status == RUNNING).values(**values)
            ).rowcount
            return ids if changed else []
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
                require_run(conn, run_id)
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

    def dead_runs(
        self,
        run_ids: Iterable[str] | None = None,
        *,
        now: float | None = None,
        stale_after: float = STALE_AFTER_S,
        conn: Connection | None = None,
    ) -> dict[str, float]:
        """Find ``running`` runs whose process is gone, without writing.

        The rule is :func:`~kernel_magics.core.store.liveness.process_gone`.

        Parameters
        ----------
        run_ids : iterable of str, optional
            Only look at these runs (all running runs when omitted).
        now : float, optional
            UTC epoch seconds; now by default.
        stale_after : float
            Heartbeat silence after which a run on another host counts as dead.
        conn : Connection, optional
            Read inside the caller's transaction.

        Returns
        -------
        dict
            Run id -> when it stopped living (its last heartbeat), the end time a read shows.
        """
        now = time.time() if now is None else now
        if run_ids is not None:
            return self._reads(conn).dead(run_ids, now, stale_after)
        query = select(
            runs.c.id, runs.c.pid, runs.c.hostname, runs.c.heartbeat_at, runs.c.start_time
        ).where(runs.c.status == RUNNING)
        if conn is None:
            with self.db.read() as own:
                candidates = own.execute(query).all()
        else:
            candidates = conn.execute(query).all()
        return {
            r.id: r.heartbeat_at or r.start_time
            for r in candidates
            if process_gone(r, now, stale_after)
        }

    def reap(self, now: float | None = None, stale_after: float = STALE_AFTER_S) -> list[str]:
        """Persist ``crashed`` for every running run whose process is gone: a writer's job.

        Reads already *show* such runs as crashed; this writes it, ending each run at its last
        heartbeat. Called by the background writer's timer, ``mlops runs reap`` and the
        scheduler, never by a read.

        Returns
        -------
        list of str
            The ids this call marked crashed.
        """
        now = time.time() if now is None else now
        crashed: list[str] = []
        for run_id in self.dead_runs(now=now, stale_after=stale_after):
            # One transaction each: a long reap never holds the write lock.
            crashed += self.end(
                run_id, CRASHED, error=CRASHED_ERROR, end_time=now, at_last_heartbeat=True
            )
        return crashed

    def existing(self, run_ids: Iterable[str]) -> set[str]:
        """Return those of ``run_ids`` that are still in the store (not deleted)."""
        ids = list(run_ids)
        if not ids:
            return set()
        with self.db.read() as conn:
            return set(conn.execute(select(runs.c.id).where(runs.c.id.in_(ids))).scalars())

    def link_environment(self, conn: Connection, run_ids: Sequence[str], ref: BlobRef) -> None:
        """Point runs at the stored environment blob ``ref`` (inside the writer's transaction)."""
        register_blob(conn, ref)
        if run_ids:
            conn.execute(
                update(runs).where(runs.c.id.in_(list(run_ids))).values(environment_hash=ref.hash)
            )

    # -- read ----------------------------------------------------------------------------------
    def resolve_id(self, run_id: str) -> str:
        """Expand a unique id prefix (at least 4 characters) to the full run id."""
        return self._reads().resolve(run_id)

    def get(self, run_id: str) -> RunRecord:
        """Return one run with its params, latest metrics, tags, artifacts and datasets."""
        run_id = self.resolve_id(run_id)
        with self.db.read() as conn:
            return self._reads(conn).run(run_id)

    def _reads(self, conn: Connection | None = None) -> RunReads:
        return RunReads(sqlalchemy_fetch(self.db, conn))

    def delete(self, run_id: str, *, force: bool = False) -> list[str]:
        """Delete a run and its child runs with everything they logged; return the ids removed.

        Blobs stay until ``mlops gc`` removes the ones nothing references any more.

        Parameters
        ----------
        run_id : str
            The run (or a unique id prefix).
        force : bool
            Also delete a run (or child run) whose process is still alive; that process then
            stops logging with one warning.

        Raises
        ------
        RunStillRunningError
            When the run or one of its children is still running and ``force`` is False.
        """
        run_id = self.resolve_id(run_id)
        with self.db.write() as conn:
            require_run(conn, run_id)
            ids, frontier = [run_id], [run_id]
            while frontier:
                frontier = list(
                    conn.execute(
                        select(runs.c.id).where(runs.c.parent_run_id.in_(frontier))
                    ).scalars()
                )
                ids.extend(frontier)
            if not force:
                self._refuse_live(conn, ids)
            series = select(latest_metrics.c.id).where(latest_metrics.c.run_id.in_(ids))
            conn.execute(delete(metrics).where(metrics.c.series_id.in_(series)))
            for table in (latest_metrics, params, tags, artifacts, run_datasets):
                conn.execute(delete(table).where(table.c.run_id.in_(ids)))
            conn.execute(
                update(runs).where(runs.c.parent_run_id.in_(ids)).values(parent_run_id=None)
            )
            delete_notes_of(conn, NOTE_RUN, ids)
            conn.execute(delete(runs).where(runs.c.id.in_(ids)))
        return ids

    def _refuse_live(self, conn: Connection, ids: list[str]) -> None:
        rows = conn.execute(
            select(runs.c.id, runs.c.pid, runs.c.hostname).where(
                runs.c.id.in_(ids), runs.c.status == RUNNING
            )
        ).all()
        dead = self.dead_runs([r.id for r in rows], conn=conn)
        live = [r for r in rows if r.id not in dead]
        if live:
            where = ", ".join(f"{r.id[:8]} (pid {r.pid} on {r.hostname})" for r in live)
            raise RunStillRunningError(
                f"Run {where} is still running; deleting it would make its process lose what "
                "it logs from now on. Wait for it to end (or stop it), or delete it anyway with "
                "`mlops runs rm --force` (delete(..., force=True))."
            )
