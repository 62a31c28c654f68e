"""Deployments (model servers) and their events.

Reads are pure: a live deployment of this machine whose server process is gone is *shown* as
``crashed`` (derived, see :meth:`DeploymentRepository.shown_status`) without writing, so a
read-only database user can serve the panel. Persisting that status happens in
:meth:`DeploymentRepository.reap`, which the writers call (deploy, stop, rollback, and
``mlops deployments ls`` as a command the user runs).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import func, insert, select, update

from ...errors import DeploymentNotFoundError
from ..names import CRASHED, RUNNING
from .audit import record_change
from .db import Database
from .liveness import HOSTNAME, pid_alive
from .schema import deployment_events, deployments, model_versions, models, prediction_log

#: Deployment statuses beyond the ones it shares with runs (running, failed, crashed).
STARTING, STOPPING, STOPPED = "starting", "stopping", "stopped"
LIVE_STATUSES = (STARTING, RUNNING, STOPPING)
#: A deployment recorded without a pid yet (its controller died mid-start) is dead after this.
PIDLESS_GRACE_S = 120.0
CRASHED_DETAIL = "the server process is gone"


@dataclass
class DeploymentRecord:
    """One model server (running or not), as recorded in the store."""

    id: int
    model: str
    version: int
    model_version_id: int
    alias: str | None
    host: str
    port: int
    pid: int | None
    hostname: str | None
    status: str
    log_path: str | None
    created_at: float
    updated_at: float

    @property
    def url(self) -> str:
        """The base URL clients use."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def ref(self) -> str:
        """What it serves: ``churn@production (v3)`` or ``churn/3``."""
        if self.alias:
            return f"{self.model}@{self.alias} (v{self.version})"
        return f"{self.model}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (with ``url``)."""
        return {**asdict(self), "url": self.url}


def _process_gone(status: str, hostname: str | None, pid: int | None, created_at: float) -> bool:
    """Whether a deployment is recorded live on this machine but its process is gone."""
    if status not in LIVE_STATUSES or hostname != HOSTNAME or pid_alive(pid):
        return False
    return pid is not None or time.time() - created_at > PIDLESS_GRACE_S


class DeploymentRepository:
    """Create, update and list deployment rows and their events."""

    def __init__(self, db: Database):
        self.db = db

    def create(
        self,
        model_version_id: int,
        alias: str | None,
        host: str,
        port: int,
        log_path: str | None = None,
        pid: int | None = None,
        status: str = STARTING,
    ) -> int:
        """Insert a deployment row and its ``created`` event; return its id."""
        now = time.time()
        with self.db.write() as conn:
            model_id = conn.execute(
                select(model_versions.c.model_id).where(model_versions.c.id == model_version_id)
            ).scalar_one()
            dep_id = conn.execute(
                insert(deployments).values(
                    model_id=model_id,
                    model_version_id=model_version_id,
                    alias=alias,
                    host=host,
                    port=port,
                    pid=pid,
                    hostname=HOSTNAME,
                    status=status,
                    log_path=log_path,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(deployment_events).values(
                    deployment_id=dep_id, event="created", detail=f"{host}:{port}", at=now
                )
            )
            version = conn.execute(
                select(models.c.name, model_versions.c.version)
                .join(models, models.c.id == model_versions.c.model_id)
                .where(model_versions.c.id == model_version_id)
            ).one()
            detail = {"model": version.name, "version": version.version, "alias": alias,
                      "address": f"{host}:{port}"}  # fmt: skip
            record_change(conn, "deployment", f"deployment {dep_id}", "create", detail)
        return int(dep_id)

    def update(
        self,
        dep_id: int,
        event: str | None = None,
        detail: str | None = None,
        only_if: tuple[str, ...] | None = None,
        **values: Any,
    ) -> bool:
        """Set columns (``status``, ``pid``...) and record an event; False if nothing changed.

        With ``only_if``, only a row in one of those statuses is changed.
        """
        now = time.time()
        with self.db.write() as conn:
            stmt = update(deployments).where(deployments.c.id == dep_id)
            if only_if:
                stmt = stmt.where(deployments.c.status.in_(only_if))
            changed = conn.execute(stmt.values(updated_at=now, **values)).rowcount
            if changed and event:
                conn.execute(
                    insert(deployment_events).values(
                        deployment_id=dep_id, event=event, detail=detail, at=now
                    )
                )
            if changed and event == STOPPED:
                # "stopped" is the stop a person asked for (mlops stop, a replacement by a
                # redeploy or rollback); the server's own exit is "exited", crashes "crashed".
                record_change(conn, "deployment", f"deployment {dep_id}", "stop",
                              {"reason": detail})  # fmt: skip
        return bool(changed)

    def _query(self):
        return (
            select(deployments, models.c.name.label("model"), model_versions.c.version)
            .join(models, models.c.id == deployments.c.model_id)
            .join(model_versions, model_versions.c.id == deployments.c.model_version_id)
        )

    @staticmethod
    def _record(row: Any) -> DeploymentRecord:
        data = dict(row)
        data.pop("model_id", None)
        record = DeploymentRecord(**data)
        if _process_gone(record.status, record.hostname, record.pid, record.created_at):
            return replace(record, status=CRASHED)  # shown, not written: see reap()
        return record

    def get(self, dep_id: int) -> DeploymentRecord:
        """One deployment; one whose process is gone is shown ``crashed`` (nothing is written).

        Raises
        ------
        DeploymentNotFoundError
            When there is no deployment with this id.
        """
        with self.db.read() as conn:
            row = conn.execute(self._query().where(deployments.c.id == dep_id)).mappings().first()
        if row is None:
            raise DeploymentNotFoundError(
                f"No deployment {dep_id}; list them with `mlops deployments ls --all`."
            )
        return self._record(row)

    def find(
        self, model: str | None = None, alias: str | None = None, live_only: bool = False
    ) -> list[DeploymentRecord]:
        """Deployments, newest first (``live_only``: starting, running or stopping).

        Like :meth:`get`, a deployment whose process is gone is shown ``crashed`` (and is not
        live), without writing.
        """
        query = self._query().order_by(deployments.c.id.desc())
        if model is not None:
            query = query.where(models.c.name == model)
        if alias is not None:
            query = query.where(deployments.c.alias == alias)
        if live_only:
            query = query.where(deployments.c.status.in_(LIVE_STATUSES))
        with self.db.read() as conn:
            found = [self._record(r) for r in conn.execute(query).mappings()]
        return [d for d in found if d.status in LIVE_STATUSES] if live_only else found

    def page(
        self,
        model: str | None = None,
        live_only: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[DeploymentRecord], int]:
        """One page of deployments, newest first, and how many match in all (for the panel).

        ``live_only`` filters on the recorded status in SQL, so a live-recorded deployment
        whose process is gone is still on the page, shown ``crashed`` (as :meth:`get` shows it).
        """
        query = self._query().order_by(deployments.c.id.desc())
        count = select(func.count()).select_from(deployments)
        if model is not None:
            query = query.where(models.c.name == model)
            count = count.join(models, models.c.id == deployments.c.model_id).where(
                models.c.name == model
            )
        if live_only:
            query = query.where(deployments.c.status.in_(LIVE_STATUSES))
            count = count.where(deployments.c.status.in_(LIVE_STATUSES))
        with self.db.read() as conn:
            total = int(conn.execute(count).scalar_one())
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [self._record(r) for r in rows], total

    def requests_since(self, dep_id: int, since: float) -> list[tuple[float, float, int]]:
        """``(at, latency_ms, status_code)`` of the prediction-log entries since ``since``.

        The log keeps every failed request and a sample of the successful ones (the
        deployment's ``sample_rate``), oldest first.
        """
        with self.db.read() as conn:
            rows = conn.execute(
                select(prediction_log.c.at, prediction_log.c.latency_ms,
                       prediction_log.c.status_code)
                .where(prediction_log.c.deployment_id == dep_id, prediction_log.c.at >= since)
                .order_by(prediction_log.c.at)
            ).all()  # fmt: skip
        return [(float(r.at), float(r.latency_ms), int(r.status_code)) for r in rows]

    def status(self, dep_id: int) -> str | None:
        """Return the recorded status of a deployment (None when its row is gone)."""
        with self.db.read() as conn:
            return conn.execute(
                select(deployments.c.status).where(deployments.c.id == dep_id)
            ).scalar()

    def events(self, dep_id: int) -> list[dict[str, Any]]:
        """Return the deployment's events (created, started, stopped...), oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(deployment_events)
                .where(deployment_events.c.deployment_id == dep_id)
                .order_by(deployment_events.c.at, deployment_events.c.id)
            ).mappings()
            return [dict(r) for r in rows]

    def reap(self) -> list[int]:
        """Record ``crashed`` the live deployments of this machine whose process is gone.

        Returns
        -------
        list of int
            The ids this call marked (a deployment another process reaped first is left out).
        """
        with self.db.read() as conn:
            rows = conn.execute(
                select(
                    deployments.c.id,
                    deployments.c.status,
                    deployments.c.hostname,
                    deployments.c.pid,
                    deployments.c.created_at,
                ).where(deployments.c.status.in_(LIVE_STATUSES), deployments.c.hostname == HOSTNAME)
            ).all()
        dead = [r.id for r in rows if _process_gone(r.status, r.hostname, r.pid, r.created_at)]
        return [
            dep_id
            for dep_id in dead
            if self.update(dep_id, CRASHED, CRASHED_DETAIL, only_if=LIVE_STATUSES, status=CRASHED)
        ]
