"""Challengers and deployment guards: the ``store.challengers`` repository.

Rows arrive validated (modes, shares and guard conditions are checked by
:mod:`kernel_magics.core.serving.challengers`); this module only reads and writes them. Every
status change is one write transaction with its audit entry, and the ending transitions only
move a row that is still active, so a guard tripping in the model server and a person stopping
the challenger at the same moment end it once.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...errors import ChallengerNotFoundError
from ..names import (
    CHALLENGER_ACTIVE,
    CHALLENGER_RUNNING,
    CHALLENGER_STARTING,
    GUARD_PASSED,
    GUARD_WATCHING,
)
from .audit import record_change
from .db import Database
from .schema import model_versions, models
from .schema_challengers import challenger_stats, challengers, deployment_guards

#: Counters of one server's :class:`ChallengerStats` row, in column order.
STAT_COUNTERS = (
    "champion_requests",
    "champion_errors",
    "challenger_requests",
    "challenger_errors",
    "compared_rows",
    "agreed_rows",
    "dropped",
)


@dataclass
class ChallengerRecord:
    """One challenger as stored.

    Attributes
    ----------
    id : int
    model, alias : str
        The deployment it runs in: the servers of ``model@alias``.
    champion_version, challenger_version : int
        Version numbers (of ``model`` and of the challenger's own model).
    challenger_model : str
        The challenger's model name (usually ``model``).
    mode : str
        ``shadow`` (answers with the champion) or ``canary``.
    share : float
        Canary: the share of request ids the challenger answers.
    guards : list of str
        Conditions that must keep holding (``errors.rate < 0.01``).
    guard_for_s : float
        Seconds after ``started_at`` during which the guards are judged.
    notify : list of str
        Channels told when a guard breaks.
    status : str
        ``starting``, ``running``, then ``stopped``, ``promoted``, ``rolled_back`` or
        ``failed``.
    guard_state : str
        ``watching``, ``passed`` (the period ended unbroken) or ``broken``.
    reason : str or None
        Why it ended.
    deployment_id : int or None
        The latest server running it.
    """

    id: int
    model: str
    alias: str
    champion_version_id: int
    challenger_version_id: int
    champion_version: int
    challenger_model: str
    challenger_version: int
    mode: str
    share: float
    guards: list[str]
    guard_for_s: float
    notify: list[str]
    allow_pickle: bool
    status: str
    guard_state: str
    reason: str | None
    deployment_id: int | None
    started_at: float
    ended_at: float | None

    @property
    def active(self) -> bool:
        """Whether servers should route to it (starting or running)."""
        return self.status in CHALLENGER_ACTIVE

    @property
    def target(self) -> str:
        """``churn@production``."""
        return f"{self.model}@{self.alias}"

    @property
    def challenger_ref(self) -> str:
        """``churn/4``."""
        return f"{self.challenger_model}/{self.challenger_version}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {**asdict(self), "target": self.target, "challenger_ref": self.challenger_ref}


@dataclass
class ChallengerStats:
    """Counts for one challenger, summed over the servers that ran it."""

    champion_requests: int = 0
    champion_errors: int = 0
    challenger_requests: int = 0
    challenger_errors: int = 0
    compared_rows: int = 0
    agreed_rows: int = 0
    dropped: int = 0
    abs_diff_sum: float = 0.0
    champion_latency: list[int] = field(default_factory=list)
    challenger_latency: list[int] = field(default_factory=list)

    def add(self, other: ChallengerStats) -> None:
        """Add another server's counts to these."""
        for name in STAT_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.abs_diff_sum += other.abs_diff_sum
        self.champion_latency = _add_lists(self.champion_latency, other.champion_latency)
        self.challenger_latency = _add_lists(self.challenger_latency, other.challenger_latency)


def _add_lists(a: list[int], b: list[int]) -> list[int]:
    if not a:
        return list(b)
    if not b:
        return list(a)
    return [x + y for x, y in zip(a, b, strict=True)]


@dataclass
class DeploymentGuard:
    """A guard on a full deploy or promotion of ``model@alias`` to ``version``."""

    id: int
    model: str
    alias: str
    version: int
    previous_version: int | None
    conditions: list[str]
    notify: list[str]
    started_at: float
    until: float
    status: str
    reason: str | None
    checked_at: float | None
    ended_at: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


def _challenger_query():
    champion = model_versions.alias("champion")
    challenger = model_versions.alias("challenger")
    challenger_model = models.alias("challenger_model")
    return (
        select(
            challengers,
            champion.c.version.label("champion_version"),
            challenger.c.version.label("challenger_version"),
            challenger_model.c.name.label("challenger_model"),
        )
        .join(champion, champion.c.id == challengers.c.champion_version_id)
        .join(challenger, challenger.c.id == challengers.c.challenger_version_id)
        .join(challenger_model, challenger_model.c.id == challenger.c.model_id)
    )


def _challenger(row: Any) -> ChallengerRecord:
    m = dict(row._mapping)
    m["guards"] = json.loads(m["guards"])
    m["notify"] = json.loads(m["notify"])
    m["allow_pickle"] = bool(m["allow_pickle"])
    return ChallengerRecord(**m)


def _guard(row: Any) -> DeploymentGuard:
    m = dict(row._mapping)
    m["conditions"] = json.loads(m["conditions"])
    m["notify"] = json.loads(m["notify"])
    return DeploymentGuard(**m)


class ChallengerRepository:
    """Challenger rows, their per-server counts, and deployment guards."""

    def __init__(self, db: Database):
        self.db = db

    # -- challengers ---------------------------------------------------------------------------
    def create(
        self,
        *,
        model: str,
        alias: str,
        champion_version_id: int,
        challenger_version_id: int,
        mode: str,
        share: float,
        guards: list[str],
        guard_for_s: float,
        notify: list[str],
        allow_pickle: bool,
    ) -> int:
        """Insert a ``starting`` challenger; return its id."""
        now = time.time()
        with self.db.write() as conn:
            new_id = conn.execute(
                insert(challengers).values(
                    model=model,
                    alias=alias,
                    champion_version_id=champion_version_id,
                    challenger_version_id=challenger_version_id,
                    mode=mode,
                    share=share,
                    guards=json.dumps(guards),
                    guard_for_s=guard_for_s,
                    notify=json.dumps(notify),
                    allow_pickle=int(allow_pickle),
                    status=CHALLENGER_STARTING,
                    guard_state=GUARD_WATCHING,
                    started_at=now,
                )  # fmt: skip
            ).inserted_primary_key[0]  # type: ignore[index]
            self._audit(conn, int(new_id), model, alias, "challenger start",
                        {"mode": mode, "share": share, "guards": guards})  # fmt: skip
        return int(new_id)

    def get(self, challenger_id: int) -> ChallengerRecord:
        """The challenger with this id.

        Raises
        ------
        ChallengerNotFoundError
        """
        with self.db.read() as conn:
            row = conn.execute(_challenger_query().where(challengers.c.id == challenger_id)).first()
        if row is None:
            raise ChallengerNotFoundError(
                f"No challenger {challenger_id}; see `mlops challenger status`."
            )
        return _challenger(row)

    def find(
        self, model: str | None = None, alias: str | None = None, active_only: bool = False
    ) -> list[ChallengerRecord]:
        """Challengers, newest first (of ``model@alias`` when given)."""
        query = _challenger_query().order_by(challengers.c.id.desc())
        if model is not None:
            query = query.where(challengers.c.model == model)
        if alias is not None:
            query = query.where(challengers.c.alias == alias)
        if active_only:
            query = query.where(challengers.c.status.in_(CHALLENGER_ACTIVE))
        with self.db.read() as conn:
            return [_challenger(r) for r in conn.execute(query)]

    def status(self, challenger_id: int) -> str | None:
        """The challenger's status (one small read: servers poll it)."""
        with self.db.read() as conn:
            return conn.execute(
                select(challengers.c.status).where(challengers.c.id == challenger_id)
            ).scalar()

    def started(self, challenger_id: int, deployment_id: int) -> None:
        """Record that ``deployment_id`` runs the challenger (``running`` from now)."""
        with self.db.write() as conn:
            conn.execute(
                update(challengers)
                .where(challengers.c.id == challenger_id)
                .where(challengers.c.status.in_(CHALLENGER_ACTIVE))
                .values(status=CHALLENGER_RUNNING, deployment_id=deployment_id)
            )

    def finish(
        self,
        challenger_id: int,
        status: str,
        reason: str,
        guard_state: str | None = None,
    ) -> bool:
        """End an active challenger with ``status``; False when it had already ended."""
        values: dict[str, Any] = {"status": status, "reason": reason[:2000],
                                  "ended_at": time.time()}  # fmt: skip
        if guard_state is not None:
            values["guard_state"] = guard_state
        with self.db.write() as conn:
            done = conn.execute(
                update(challengers)
                .where(challengers.c.id == challenger_id)
                .where(challengers.c.status.in_(CHALLENGER_ACTIVE))
                .values(**values)
            ).rowcount
            if done:
                row = conn.execute(
                    select(challengers.c.model, challengers.c.alias).where(
                        challengers.c.id == challenger_id
                    )
                ).one()
                self._audit(conn, challenger_id, row.model, row.alias, f"challenger {status}",
                            {"reason": reason[:500]})  # fmt: skip
        return bool(done)

    def guard_passed(self, challenger_id: int) -> None:
        """Record that the guard period ended with every guard holding."""
        with self.db.write() as conn:
            conn.execute(
                update(challengers)
                .where(challengers.c.id == challenger_id)
                .where(challengers.c.guard_state == GUARD_WATCHING)
                .values(guard_state=GUARD_PASSED)
            )

    @staticmethod
    def _audit(conn: Connection, challenger_id: int, model: str, alias: str, action: str,
               detail: dict[str, Any]) -> None:  # fmt: skip
        record_change(conn, "deployment", f"{model}@{alias}", action,
                      {"challenger": challenger_id, **detail})  # fmt: skip

    # -- counts --------------------------------------------------------------------------------
    def save_stats(self, challenger_id: int, deployment_id: int, stats: ChallengerStats) -> None:
        """Write one server's cumulative counts (over its previous row)."""
        values = {name: getattr(stats, name) for name in STAT_COUNTERS}
        values.update(
            abs_diff_sum=float(stats.abs_diff_sum),
            champion_latency=json.dumps(stats.champion_latency),
            challenger_latency=json.dumps(stats.challenger_latency),
            updated_at=time.time(),
        )
        key = (challenger_stats.c.challenger_id == challenger_id) & (
            challenger_stats.c.deployment_id == deployment_id
        )
        with self.db.write() as conn:
            if not conn.execute(update(challenger_stats).where(key).values(**values)).rowcount:
                conn.execute(
                    insert(challenger_stats).values(
                        challenger_id=challenger_id, deployment_id=deployment_id, **values
                    )
                )

    def stats(self, challenger_id: int) -> ChallengerStats:
        """The challenger's counts, summed over every server that ran it."""
        total = ChallengerStats()
        with self.db.read() as conn:
            rows = conn.execute(
                select(challenger_stats).where(challenger_stats.c.challenger_id == challenger_id)
            ).all()
        for row in rows:
            m = row._mapping
            total.add(
                ChallengerStats(
                    **{name: int(m[name]) for name in STAT_COUNTERS},
                    abs_diff_sum=float(m["abs_diff_sum"]),
                    champion_latency=json.loads(m["champion_latency"]),
                    challenger_latency=json.loads(m["challenger_latency"]),
                )
            )
        return total

    # -- deployment guards ---------------------------------------------------------------------
    def add_guard(
        self,
        *,
        model: str,
        alias: str,
        version: int,
        previous_version: int | None,
        conditions: list[str],
        notify: list[str],
        guard_for_s: float,
        now: float | None = None,
    ) -> int:
        """Start watching ``model@alias`` at ``version``; return the guard's id."""
        now = time.time() if now is None else now
        with self.db.write() as conn:
            guard_id = conn.execute(
                insert(deployment_guards).values(
                    model=model,
                    alias=alias,
                    version=version,
                    previous_version=previous_version,
                    conditions=json.dumps(conditions),
                    notify=json.dumps(notify),
                    started_at=now,
                    until=now + guard_for_s,
                    status=GUARD_WATCHING,
                )  # fmt: skip
            ).inserted_primary_key[0]  # type: ignore[index]
            record_change(conn, "deployment", f"{model}@{alias}", "guard start",
                          {"guard": int(guard_id), "version": version,
                           "conditions": conditions})  # fmt: skip
        return int(guard_id)

    def guards(self, watching_only: bool = False) -> list[DeploymentGuard]:
        """Deployment guards, newest first."""
        query = select(deployment_guards).order_by(deployment_guards.c.id.desc())
        if watching_only:
            query = query.where(deployment_guards.c.status == GUARD_WATCHING)
        with self.db.read() as conn:
            return [_guard(r) for r in conn.execute(query)]

    def guard(self, guard_id: int) -> DeploymentGuard:
        """One deployment guard.

        Raises
        ------
        ChallengerNotFoundError
        """
        with self.db.read() as conn:
            row = conn.execute(
                select(deployment_guards).where(deployment_guards.c.id == guard_id)
            ).first()
        if row is None:
            raise ChallengerNotFoundError(f"No deployment guard {guard_id}.")
        return _guard(row)

    def checked(self, guard_id: int, now: float) -> None:
        """Record a check that found nothing broken."""
        with self.db.write() as conn:
            conn.execute(
                update(deployment_guards)
                .where(deployment_guards.c.id == guard_id)
                .values(checked_at=now)
            )

    def end_guard(self, guard_id: int, status: str, reason: str, now: float) -> bool:
        """End a watching guard (``passed``, ``rolled_back``...); False if already ended.

        The conditional update is the claim: of two schedulers judging the same guard, only
        the one whose update moved the row rolls back.
        """
        with self.db.write() as conn:
            done = conn.execute(
                update(deployment_guards)
                .where(deployment_guards.c.id == guard_id)
                .where(deployment_guards.c.status == GUARD_WATCHING)
                .values(status=status, reason=reason[:2000], ended_at=now, checked_at=now)
            ).rowcount
            if done:
                row = conn.execute(
                    select(deployment_guards.c.model, deployment_guards.c.alias).where(
                        deployment_guards.c.id == guard_id
                    )
                ).one()
                record_change(conn, "deployment", f"{row.model}@{row.alias}",
                              f"guard {status}", {"guard": guard_id,
                                                  "reason": reason[:500]})  # fmt: skip
        return bool(done)
