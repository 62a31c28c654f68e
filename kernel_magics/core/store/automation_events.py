"""Trigger events of automations: stored once, claimed under a lease, ended, retried.

Each trigger event is one ``automation_events`` row, unique per (automation, event key):
schedulers that notice the same event insert it with ``ON CONFLICT DO NOTHING``, so one row
exists however many noticed it. The row is then claimed like a schedule slot (:mod:`.slots`):
flipped to ``running`` with an owner and a lease the owner keeps renewing, ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` (and the scheduler leader lease) on SQLite. An event
whose lease expired belonged to a scheduler that died: it ends ``crashed`` (its runs too) and is
retried per the automation's policy. :class:`AutomationEvents` is a mixin of
:class:`~.automations.AutomationRepository`.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, func, select, update

from ..automations.spec import MANUAL
from ..names import CRASHED, FAILED, FINISHED, KILLED, RUNNING, Tag
from .db import Database
from .schema import tags
from .schema_automations import automation_event_runs, automation_events, automations
from .upsert import upsert

if TYPE_CHECKING:
    from .automations import AutomationRecord
    from .runs import RunRepository

#: Event statuses beyond the run statuses: waiting to run, waiting for a retry.
PENDING, RETRYING = "pending", "retrying"
LEASE_LOST_ERROR = (
    "The scheduler running this automation ({owner}) stopped renewing its lease (killed, or its "
    "machine went down)."
)


@dataclass(frozen=True)
class NewEvent:
    """A trigger event noticed by a scheduler (not yet stored)."""

    key: str
    source_time: float
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class EventClaim:
    """An attempt at an event that this owner now runs (until its lease expires)."""

    event_id: int
    event_key: str
    attempt: int
    payload: dict[str, Any]
    automation: AutomationRecord


@dataclass(frozen=True)
class EventEnd:
    """How an attempt ended and what the event became (``retrying`` or a terminal status)."""

    event_id: int
    event_key: str
    attempt: int
    automation: AutomationRecord
    attempt_status: str
    event_status: str
    run_id: str | None
    step: str | None
    error: str | None

    @property
    def gave_up(self) -> bool:
        """Whether the event failed for good."""
        return self.event_status in (FAILED, CRASHED, KILLED)


class AutomationEvents:
    """Events of automations; :class:`~.automations.AutomationRepository` inherits them."""

    db: Database
    # Declared for the type checker only: AutomationRepository, the one class that inherits
    # this mixin, defines them (an automation by name or id; by id inside ``conn``).
    get: Callable[[str | int], AutomationRecord]
    _record_of: Callable[[Connection, int], AutomationRecord]

    # -- events ------------------------------------------------------------------------------
    def cursor(self, record: AutomationRecord) -> float:
        """The instant up to which trigger events of ``record`` were stored (or its start)."""
        with self.db.read() as conn:
            last = conn.execute(
                select(func.max(automation_events.c.source_time)).where(
                    automation_events.c.automation_id == record.id,
                    ~automation_events.c.event_key.startswith(f"{MANUAL}:"),
                )
            ).scalar()
        return max(record.start_at, last or 0.0)

    def add_events(self, record: AutomationRecord, events: Sequence[NewEvent], now: float) -> int:
        """Store events not stored yet (another scheduler's insert wins); return how many."""
        rows = [_event_row(record, e, now) for e in events]
        if not rows:
            return 0
        with self.db.write() as conn:
            before = _count_events(conn, record.id)
            upsert(conn, automation_events, rows, ["automation_id", "event_key"], [])
            return _count_events(conn, record.id) - before

    def add_manual(self, record: AutomationRecord, event: NewEvent, now: float) -> int:
        """Store a manual event (``mlops automation run``) that is due now; return its id."""
        with self.db.write() as conn:
            result = conn.execute(automation_events.insert().values(_event_row(record, event, now)))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    # -- claiming ----------------------------------------------------------------------------
    def claim(
        self, owner: str, now: float, lease: float, limit: int, event_id: int | None = None
    ) -> builtins.list[EventClaim]:
        """Take up to ``limit`` due events (or the one ``event_id``, even while paused)."""
        if limit <= 0:
            return []
        due = and_(
            automation_events.c.status.in_((PENDING, RETRYING)),
            automation_events.c.next_attempt_at <= now,
        )
        if event_id is not None:
            due = and_(due, automation_events.c.id == event_id)
        else:
            due = and_(due, automations.c.enabled == 1)
        query = (
            select(
                automation_events.c.id, automation_events.c.event_key,
                automation_events.c.attempt, automation_events.c.payload,
                automation_events.c.automation_id,
            )
            .join(automations, automations.c.id == automation_events.c.automation_id)
            .where(due)
            .order_by(automation_events.c.source_time, automation_events.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=automation_events)
        )  # fmt: skip
        claims = []
        with self.db.write() as conn:
            for row in conn.execute(query).all():
                attempt = row.attempt + 1
                conn.execute(
                    update(automation_events).where(automation_events.c.id == row.id).values(
                        status=RUNNING, attempt=attempt, lease_owner=owner,
                        lease_expires_at=now + lease, next_attempt_at=None, updated_at=now,
                    )
                )  # fmt: skip
                conn.execute(
                    automation_event_runs.insert().values(
                        event_id=row.id, attempt=attempt, status=RUNNING, started_at=now
                    )
                )
                record = self._record_of(conn, row.automation_id)
                claims.append(
                    EventClaim(row.id, row.event_key, attempt, json.loads(row.payload), record)
                )
        return claims

    def set_run(self, claim: EventClaim, run_id: str) -> None:
        """Record the parent run of an attempt as soon as it exists."""
        with self.db.write() as conn:
            conn.execute(update(automation_events).where(automation_events.c.id == claim.event_id)
                         .values(run_id=run_id))  # fmt: skip
            conn.execute(
                update(automation_event_runs)
                .where(automation_event_runs.c.event_id == claim.event_id,
                       automation_event_runs.c.attempt == claim.attempt)
                .values(run_id=run_id)
            )  # fmt: skip

    def renew(self, owner: str, now: float, lease: float) -> int:
        """Extend the lease of every event ``owner`` is running; return how many."""
        with self.db.write() as conn:
            return conn.execute(
                update(automation_events)
                .where(automation_events.c.lease_owner == owner,
                       automation_events.c.status == RUNNING)
                .values(lease_expires_at=now + lease)
            ).rowcount  # fmt: skip

    def complete(
        self,
        claim: EventClaim,
        owner: str,
        status: str,
        now: float,
        *,
        run_id: str | None = None,
        step: str | None = None,
        error: str | None = None,
        retry: bool = True,
    ) -> EventEnd | None:
        """End an attempt; return what the event became, or None if the lease was lost."""
        with self.db.write() as conn:
            row = conn.execute(
                select(automation_events.c.id, automation_events.c.run_id)
                .where(automation_events.c.id == claim.event_id,
                       automation_events.c.status == RUNNING,
                       automation_events.c.lease_owner == owner,
                       automation_events.c.attempt == claim.attempt)
                .with_for_update()
            ).first()  # fmt: skip
            if row is None:
                return None
            end = _end(claim, status, run_id or row.run_id, step, error, retry)
            _write_end(conn, end, now)
        return end

    def reap(self, now: float, runs: RunRepository) -> builtins.list[EventEnd]:
        """End ``crashed`` every running attempt whose lease expired, with its running runs."""
        query = (
            select(automation_events)
            .where(automation_events.c.status == RUNNING,
                   automation_events.c.lease_expires_at < now)
            .with_for_update(skip_locked=True, of=automation_events)
        )  # fmt: skip
        ended = []
        with self.db.write() as conn:
            for row in conn.execute(query).all():
                record = self._record_of(conn, row.automation_id)
                claim = EventClaim(row.id, row.event_key, row.attempt, json.loads(row.payload),
                                   record)  # fmt: skip
                error = LEASE_LOST_ERROR.format(owner=row.lease_owner)
                run_ids = _attempt_runs(conn, claim)
                runs.end(run_ids, CRASHED, error=error, end_time=now, conn=conn)
                end = _end(claim, CRASHED, row.run_id, None, error, True)
                _write_end(conn, end, now)
                ended.append(end)
        return ended

    def history(self, name: str, limit: int = 50) -> builtins.list[dict[str, Any]]:
        """The newest events of an automation, each with its attempts (oldest attempt first)."""
        record = self.get(name)
        with self.db.read() as conn:
            events = conn.execute(
                select(automation_events)
                .where(automation_events.c.automation_id == record.id)
                .order_by(automation_events.c.source_time.desc(), automation_events.c.id.desc())
                .limit(limit)
            ).all()
            ids = [e.id for e in events]
            attempts = conn.execute(
                select(automation_event_runs)
                .where(automation_event_runs.c.event_id.in_(ids))
                .order_by(automation_event_runs.c.event_id, automation_event_runs.c.attempt)
            ).all()
        by_event: dict[int, builtins.list[dict[str, Any]]] = {}
        for a in attempts:
            by_event.setdefault(a.event_id, []).append(dict(a._mapping))
        out = []
        for e in events:
            item = dict(e._mapping)
            item["payload"] = json.loads(item["payload"])
            item["attempts"] = by_event.get(e.id, [])
            out.append(item)
        return out

    def event_counts(self) -> dict[int, dict[str, int]]:
        """``{automation id: {status: count}}`` over every stored event."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(automation_events.c.automation_id, automation_events.c.status,
                       func.count())
                .group_by(automation_events.c.automation_id, automation_events.c.status)
            ).all()  # fmt: skip
        out: dict[int, dict[str, int]] = {}
        for automation_id, status, count in rows:
            out.setdefault(automation_id, {})[status] = count
        return out


def _event_row(record: AutomationRecord, event: NewEvent, now: float) -> dict[str, Any]:
    return {
        "automation_id": record.id, "event_key": event.key, "source_time": event.source_time,
        "payload": json.dumps(dict(event.payload), sort_keys=True, default=str),
        "status": PENDING, "attempt": 0, "next_attempt_at": now, "created_at": now,
        "updated_at": now,
    }  # fmt: skip


def _count_events(conn: Connection, automation_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(automation_events.c.automation_id == automation_id)
        ).scalar_one()
    )


def _end(claim: EventClaim, status: str, run_id: str | None, step: str | None,
         error: str | None, retry: bool) -> EventEnd:  # fmt: skip
    if status == FINISHED:
        event_status = FINISHED
    elif retry and claim.attempt <= claim.automation.spec.retries:
        event_status = RETRYING
    else:
        event_status = status
    return EventEnd(claim.event_id, claim.event_key, claim.attempt, claim.automation, status,
                    event_status, run_id, step, error)  # fmt: skip


def _write_end(conn: Connection, end: EventEnd, now: float) -> None:
    delay = end.automation.spec.retry_delay
    retry_at = now + delay if end.event_status == RETRYING else None
    conn.execute(
        update(automation_events).where(automation_events.c.id == end.event_id).values(
            status=end.event_status, run_id=end.run_id, error=end.error, lease_owner=None,
            lease_expires_at=None, next_attempt_at=retry_at, updated_at=now,
        )
    )  # fmt: skip
    conn.execute(
        update(automation_event_runs)
        .where(automation_event_runs.c.event_id == end.event_id,
               automation_event_runs.c.attempt == end.attempt)
        .values(status=end.attempt_status, run_id=end.run_id, step=end.step, error=end.error,
                ended_at=now)
    )  # fmt: skip


def attempt_tag(event_id: int, attempt: int) -> str:
    """The ``mlops.automation.attempt`` tag value of every run of one attempt."""
    return f"{event_id}:{attempt}"


def _attempt_runs(conn: Connection, claim: EventClaim) -> builtins.list[str]:
    tagged = select(tags.c.run_id).where(
        tags.c.key == Tag.AUTOMATION_ATTEMPT,
        tags.c.value == attempt_tag(claim.event_id, claim.attempt),
    )
    return [r[0] for r in conn.execute(tagged).all()]
