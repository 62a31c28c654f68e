"""Slots: one row per (schedule, fire time), claimed under a lease, run exactly once.

The unique key ``(schedule_id, slot_time)`` means two schedulers that both notice a fire time
insert one slot between them (``INSERT ... ON CONFLICT DO NOTHING``). A slot is then claimed by
flipping it to ``running`` with the claimer as ``lease_owner`` and a ``lease_expires_at`` the
owner keeps pushing forward. On PostgreSQL the claim reads candidates with
``SELECT ... FOR UPDATE SKIP LOCKED`` so several schedulers share the work without waiting on
each other; on SQLite every write is ``BEGIN IMMEDIATE`` (serialized) and only the holder of the
``scheduler`` lease (:mod:`.leases`) claims at all. A slot whose lease expired belongs to a
scheduler that died: it ends ``crashed`` and is retried per the schedule's policy.

Which fire times become slots (cron, catch-up) is decided in :mod:`kernel_magics.core.scheduler`;
this module only stores the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, func, select, update

from ..names import CRASHED, FAILED, FINISHED, KILLED, RUNNING, Tag
from .db import Database
from .schedules import ScheduleRecord, schedule_record
from .schema import schedule_slot_runs, schedule_slots, schedules, tags

if TYPE_CHECKING:
    from .runs import RunRepository

#: Slot statuses beyond the run statuses: waiting for its time, waiting for a retry, never run.
PENDING, RETRYING, MISSED = "pending", "retrying", "missed"
#: Why a slot ends ``crashed`` when its scheduler stops renewing the lease.
LEASE_LOST_ERROR = (
    "The scheduler running this slot ({owner}) stopped renewing its lease (killed, or its "
    "machine went down)."
)


@dataclass(frozen=True)
class Claim:
    """A slot attempt this scheduler now owns (until its lease expires)."""

    slot_id: int
    slot_time: float
    attempt: int
    trigger: str
    schedule: ScheduleRecord


@dataclass(frozen=True)
class SlotEnd:
    """How an attempt ended and what the slot became (``retrying`` or a terminal status)."""

    slot_id: int
    slot_time: float
    attempt: int
    schedule: ScheduleRecord
    attempt_status: str
    slot_status: str
    run_id: str | None
    error: str | None

    @property
    def gave_up(self) -> bool:
        """Whether the slot failed for good (the moment to notify)."""
        return self.slot_status in (FAILED, CRASHED, KILLED)


def _insert_ignore(conn: Connection, table, rows: list[dict], keys: list[str]) -> int:
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=keys)
    result = conn.execute(stmt, rows)
    return max(result.rowcount, 0)


class SlotRepository:
    """Slot creation, claiming, lease renewal, completion and crash detection."""

    def __init__(self, db: Database):
        self.db = db

    # -- creating slots ----------------------------------------------------------------------
    def cursor(self, schedule: ScheduleRecord) -> float:
        """Return the instant up to which cron slots of ``schedule`` exist (or its start)."""
        with self.db.read() as conn:
            last = conn.execute(
                select(func.max(schedule_slots.c.slot_time)).where(
                    schedule_slots.c.schedule_id == schedule.id,
                    schedule_slots.c.trigger == "cron",
                )
            ).scalar()
        return max(schedule.start_at, last or 0.0)

    def add_cron(
        self,
        schedule: ScheduleRecord,
        planned: Sequence[tuple[float, bool]],
        now: float,
        grace: float,
    ) -> int:
        """Insert cron slots ``(fire time, runs)``; the others are ``missed``. Return how many.

        A slot another scheduler inserted first is left as it is (and not counted).
        """
        rows = []
        for t, runs_now in planned:
            rows.append({
                "schedule_id": schedule.id, "slot_time": t, "trigger": "cron",
                "status": PENDING if runs_now else MISSED, "attempt": 0,
                "next_attempt_at": t if runs_now else None, "created_at": now, "updated_at": now,
                "error": None if runs_now else (
                    f"Missed: no scheduler was running within {grace:g} s of this fire time, "
                    f"and the catch-up policy is '{schedule.catchup}'."),
            })  # fmt: skip
        with self.db.write() as conn:
            return _insert_ignore(conn, schedule_slots, rows, ["schedule_id", "slot_time"])

    def add_manual(self, schedule: ScheduleRecord, now: float) -> int:
        """Create a slot that fires now (``run-now``); return its id."""
        with self.db.write() as conn:
            result = conn.execute(
                schedule_slots.insert().values(
                    schedule_id=schedule.id, slot_time=now, trigger="manual", status=PENDING,
                    attempt=0, next_attempt_at=now, created_at=now, updated_at=now,
                )
            )  # fmt: skip
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    # -- claiming ----------------------------------------------------------------------------
    def claim(
        self, owner: str, now: float, lease: float, limit: int, slot_id: int | None = None
    ) -> list[Claim]:
        """Take up to ``limit`` due slots (or the one ``slot_id``) for ``owner``."""
        if limit <= 0:
            return []
        due = and_(
            schedule_slots.c.status.in_((PENDING, RETRYING)),
            schedule_slots.c.next_attempt_at <= now,
        )
        if slot_id is not None:  # run-now: runs even while the schedule is paused
            due = and_(due, schedule_slots.c.id == slot_id)
        else:
            due = and_(due, schedules.c.paused == 0)
        query = (
            select(*_labelled("slot_time", "attempt", "trigger"), schedules)
            .join(schedules, schedules.c.id == schedule_slots.c.schedule_id)
            .where(due)
            .order_by(schedule_slots.c.slot_time, schedule_slots.c.id)  # oldest fire time first
            .limit(limit)
            .with_for_update(skip_locked=True, of=schedule_slots)
        )  # fmt: skip
        claims = []
        with self.db.write() as conn:
            for row in conn.execute(query).all():
                slot, record = _split(row)
                attempt = slot["attempt"] + 1
                conn.execute(
                    update(schedule_slots).where(schedule_slots.c.id == slot["id"]).values(
                        status=RUNNING, attempt=attempt, lease_owner=owner,
                        lease_expires_at=now + lease, next_attempt_at=None, updated_at=now,
                        run_id=None,
                    )
                )  # fmt: skip
                conn.execute(
                    schedule_slot_runs.insert().values(
                        slot_id=slot["id"], attempt=attempt, status=RUNNING, started_at=now
                    )
                )
                claims.append(
                    Claim(slot["id"], slot["slot_time"], attempt, slot["trigger"], record)
                )
        return claims

    def renew(self, owner: str, now: float, lease: float) -> int:
        """Extend the lease of every slot ``owner`` is running; return how many."""
        with self.db.write() as conn:
            return conn.execute(
                update(schedule_slots)
                .where(schedule_slots.c.lease_owner == owner, schedule_slots.c.status == RUNNING)
                .values(lease_expires_at=now + lease)
            ).rowcount

    # -- ending ------------------------------------------------------------------------------
    def complete(
        self,
        claim: Claim,
        owner: str,
        status: str,
        now: float,
        *,
        run_id: str | None = None,
        error: str | None = None,
        retry: bool = True,
    ) -> SlotEnd | None:
        """End an attempt; return what the slot became, or None if the lease was lost."""
        with self.db.write() as conn:
            row = conn.execute(
                select(schedule_slots.c.id, schedule_slots.c.run_id)
                .where(schedule_slots.c.id == claim.slot_id, schedule_slots.c.status == RUNNING,
                       schedule_slots.c.lease_owner == owner,
                       schedule_slots.c.attempt == claim.attempt)
                .with_for_update()
            ).first()  # fmt: skip
            if row is None:
                return None
            run_id = run_id or row.run_id
            end = _end(claim.schedule, claim, status, run_id, error, retry)
            _write_end(conn, end, now)
        return end

    def reap(self, now: float, runs: RunRepository) -> list[SlotEnd]:
        """End ``crashed`` every running attempt whose lease expired (its scheduler died).

        The attempt's still-running tracked runs end ``crashed`` too, through ``runs.end`` (the
        one writer of run statuses), in the same transaction as the slot.
        """
        query = (
            select(*_labelled("slot_time", "attempt", "trigger", "run_id", "lease_owner"),
                   schedules)
            .join(schedules, schedules.c.id == schedule_slots.c.schedule_id)
            .where(schedule_slots.c.status == RUNNING, schedule_slots.c.lease_expires_at < now)
            .with_for_update(skip_locked=True, of=schedule_slots)
        )  # fmt: skip
        ended = []
        with self.db.write() as conn:
            for row in conn.execute(query).all():
                slot, record = _split(row)
                claim = Claim(
                    slot["id"], slot["slot_time"], slot["attempt"], slot["trigger"], record
                )
                error = LEASE_LOST_ERROR.format(owner=slot["lease_owner"])
                run_ids = _attempt_runs(conn, claim)
                runs.end(run_ids, CRASHED, error=error, end_time=now, conn=conn)
                run_id = run_ids[-1] if run_ids else slot["run_id"]
                end = _end(record, claim, CRASHED, run_id, error, True)
                _write_end(conn, end, now)
                ended.append(end)
        return ended


def _labelled(*names: str) -> list:
    """Slot columns labelled ``slot__<name>`` so they never clash with the schedule's."""
    return [schedule_slots.c[n].label(f"slot__{n}") for n in ("id", *names)]


def _split(row: Any) -> tuple[dict[str, Any], ScheduleRecord]:
    data = dict(row._mapping)
    slot = {k[6:]: data.pop(k) for k in list(data) if k.startswith("slot__")}
    return slot, schedule_record(data)


def _end(schedule: ScheduleRecord, claim: Claim, status: str, run_id: str | None,
         error: str | None, retry: bool) -> SlotEnd:  # fmt: skip
    if status == FINISHED:
        slot_status = FINISHED
    elif retry and claim.attempt <= schedule.retries:
        slot_status = RETRYING
    else:
        slot_status = status
    return SlotEnd(claim.slot_id, claim.slot_time, claim.attempt, schedule, status, slot_status,
                   run_id, error)  # fmt: skip


def _write_end(conn: Connection, end: SlotEnd, now: float) -> None:
    retry_at = now + end.schedule.retry_delay if end.slot_status == RETRYING else None
    conn.execute(
        update(schedule_slots).where(schedule_slots.c.id == end.slot_id).values(
            status=end.slot_status, run_id=end.run_id, error=end.error, lease_owner=None,
            lease_expires_at=None, next_attempt_at=retry_at, updated_at=now,
        )
    )  # fmt: skip
    conn.execute(
        update(schedule_slot_runs)
        .where(
            schedule_slot_runs.c.slot_id == end.slot_id,
            schedule_slot_runs.c.attempt == end.attempt,
        )
        .values(status=end.attempt_status, run_id=end.run_id, error=end.error, ended_at=now)
    )


def _attempt_runs(conn: Connection, claim: Claim) -> list[str]:
    """The tracked runs of one attempt (the runner tags each with ``slot_id:attempt``)."""
    tagged = select(tags.c.run_id).where(
        tags.c.key == Tag.SLOT_ATTEMPT, tags.c.value == f"{claim.slot_id}:{claim.attempt}"
    )
    return [r[0] for r in conn.execute(tagged).all()]
