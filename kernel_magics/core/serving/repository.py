"""SQL for deployments, their events and the prediction log (read side)."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import insert, select, update

from ...errors import DeploymentNotFoundError
from ..store import Store
from ..store.schema import deployment_events, deployments, model_versions, models, prediction_log

HOSTNAME = socket.gethostname()
STARTING, RUNNING, STOPPING, STOPPED, FAILED, CRASHED = (
    "starting",
    "running",
    "stopping",
    "stopped",
    "failed",
    "crashed",
)
LIVE_STATUSES = (STARTING, RUNNING, STOPPING)


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


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists on this machine (zombies count as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


class DeploymentRepository:
    """Create, update and list deployment rows and their events."""

    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

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
        return DeploymentRecord(**data)

    def get(self, dep_id: int) -> DeploymentRecord:
        """One deployment (after marking it crashed if its process is gone)."""
        self.reap()
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
        """Deployments, newest first (``live_only``: starting, running or stopping)."""
        self.reap()
        query = self._query().order_by(deployments.c.id.desc())
        if model is not None:
            query = query.where(models.c.name == model)
        if alias is not None:
            query = query.where(deployments.c.alias == alias)
        if live_only:
            query = query.where(deployments.c.status.in_(LIVE_STATUSES))
        with self.db.read() as conn:
            return [self._record(r) for r in conn.execute(query).mappings()]

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
        """Mark live deployments of this machine whose process is gone as ``crashed``."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(deployments.c.id, deployments.c.pid, deployments.c.created_at).where(
                    deployments.c.status.in_(LIVE_STATUSES), deployments.c.hostname == HOSTNAME
                )
            ).all()
        dead = [
            r.id
            for r in rows
            if not pid_alive(r.pid) and (r.pid is not None or time.time() - r.created_at > 120)
        ]
        for dep_id in dead:
            self.update(
                dep_id,
                "crashed",
                "the server process is gone",
                only_if=LIVE_STATUSES,
                status=CRASHED,
            )
        return dead

    def predictions(self, dep_id: int, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest sampled prediction-log entries of a deployment."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(prediction_log)
                .where(prediction_log.c.deployment_id == dep_id)
                .order_by(prediction_log.c.at.desc(), prediction_log.c.id.desc())
                .limit(limit)
            ).mappings()
            return [dict(r) for r in rows]
