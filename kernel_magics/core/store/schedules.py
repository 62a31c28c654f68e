"""Schedules: create, read, list, pause, resume, delete, and their slot history.

A schedule is a notebook plus its :class:`ScheduleOptions` (a cron expression in a timezone,
the run options, the catch-up policy, the notification). Its slots are written by
:mod:`.slots`; this module only reads them for ``history`` and ``slot_counts``. Validation
(cron, timezone, parameters, notification targets) happens before, in
:mod:`kernel_magics.core.scheduler.api`.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ...errors import ConflictError, ScheduleNotFoundError
from ..names import RUNNING, Tag
from .audit import record_change
from .db import Database
from .schema import schedule_slot_runs, schedule_slots, schedules, tags


@dataclass(frozen=True, kw_only=True)
class ScheduleOptions:
    """When a schedule fires and how its runs go: typed once, for the API, CLI, magic and store.

    Attributes
    ----------
    cron : str
        Five-field cron expression (``"0 3 * * *"``) or an alias (``@daily``, ``@hourly``...).
    timezone : str or None
        IANA timezone whose wall clock ``cron`` reads; the machine's when None.
    parameters : dict
        Papermill parameters injected into every run.
    experiment, kernel : str or None
        Where runs are logged, and the kernel name (the notebook's own when None).
    timeout : float or None
        Seconds a run may take before it is killed.
    retries, retry_delay : int, float
        Extra attempts after a failure, crash or timeout, and the seconds between them.
    catchup : str
        ``latest``, ``all`` or ``none``: what happens to slots missed while no scheduler ran.
    notify_command, notify_webhook : str or None
        Who hears about a slot that failed for good.
    """

    cron: str
    timezone: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    experiment: str | None = None
    kernel: str | None = None
    timeout: float | None = None
    retries: int = 0
    retry_delay: float = 60.0
    catchup: str = "latest"
    notify_command: str | None = None
    notify_webhook: str | None = None


@dataclass(frozen=True, kw_only=True)
class ScheduleRecord(ScheduleOptions):
    """One schedule as stored: its options plus its identity and state.

    Attributes
    ----------
    id, name : int, str
        Identity; ``name`` is unique in the store.
    notebook_path : str
        Absolute path of the notebook papermill executes.
    timezone : str
        Always resolved in a stored schedule.
    paused : bool
        Paused schedules create no slots.
    start_at, created_at, updated_at : float
        UTC epoch seconds; slots are considered from ``start_at`` on.
    """

    id: int
    name: str
    notebook_path: str
    timezone: str
    paused: bool = False
    start_at: float = 0.0
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def schedule_record(data: Mapping[Any, Any]) -> ScheduleRecord:
    """Build a record from a ``schedules`` row mapping (also used by the slot queries)."""
    data = dict(data)
    data["parameters"] = json.loads(data["parameters"] or "{}")
    data["paused"] = bool(data["paused"])
    return ScheduleRecord(**data)


class ScheduleRepository:
    """Schedules in one store's database."""

    def __init__(self, db: Database):
        self.db = db

    def create(
        self,
        name: str,
        notebook_path: str,
        options: ScheduleOptions,
        *,
        start_at: float | None = None,
        now: float | None = None,
    ) -> ScheduleRecord:
        """Insert a schedule (its options already validated, timezone resolved); return it.

        Raises
        ------
        ConflictError
            When a schedule with this name exists.
        """
        now = time.time() if now is None else now
        row = {
            # Only the options' fields: a ScheduleRecord given as options is copied, not its id.
            **{f.name: getattr(options, f.name) for f in fields(ScheduleOptions)},
            "name": name,
            "notebook_path": notebook_path,
            "parameters": json.dumps(options.parameters or {}, sort_keys=True, default=str),
            "retries": int(options.retries),
            "retry_delay": float(options.retry_delay),
            "paused": 0,
            "start_at": now if start_at is None else start_at,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.db.write() as conn:
                conn.execute(schedules.insert(), row)
                detail = {"notebook": notebook_path, "cron": options.cron,
                          "timezone": options.timezone}  # fmt: skip
                record_change(conn, "schedule", name, "create", detail)
        except IntegrityError:
            raise ConflictError(
                f"A schedule named {name!r} already exists. Pick another --name, or remove it "
                f"first with `mlops schedule rm {name}`."
            ) from None
        return self.get(name)

    def get(self, name_or_id: str | int) -> ScheduleRecord:
        """Return a schedule by name (or numeric id).

        Raises
        ------
        ScheduleNotFoundError
            When nothing matches.
        """
        with self.db.read() as conn:
            row = conn.execute(select(schedules).where(schedules.c.name == str(name_or_id))).first()
            if row is None and str(name_or_id).isdigit():
                row = conn.execute(
                    select(schedules).where(schedules.c.id == int(name_or_id))
                ).first()
        if row is None:
            names = [s.name for s in self.list()]
            known = f" Known schedules: {', '.join(names)}." if names else " There are none yet."
            raise ScheduleNotFoundError(f"No schedule named {name_or_id!r}.{known}")
        return schedule_record(row._mapping)

    def by_id(self, schedule_id: int) -> ScheduleRecord:
        """Return a schedule by its numeric id only (a name made of digits cannot shadow it).

        Raises
        ------
        ScheduleNotFoundError
            When no schedule has this id.
        """
        with self.db.read() as conn:
            row = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
        if row is None:
            raise ScheduleNotFoundError(
                f"No schedule with id {schedule_id}; list them with `mlops schedule ls`."
            )
        return schedule_record(row._mapping)

    def page(self, limit: int = 50, offset: int = 0) -> tuple[builtins.list[ScheduleRecord], int]:
        """One page of schedules by name, and how many there are in all."""
        with self.db.read() as conn:
            total = int(conn.execute(select(func.count()).select_from(schedules)).scalar_one())
            rows = conn.execute(
                select(schedules).order_by(schedules.c.name).limit(limit).offset(offset)
            ).all()
        return [schedule_record(r._mapping) for r in rows], total

    def list(self) -> list[ScheduleRecord]:
        """Every schedule, by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(schedules).order_by(schedules.c.name)).all()
        return [schedule_record(r._mapping) for r in rows]

    def set_paused(self, name: str, paused: bool, now: float | None = None) -> ScheduleRecord:
        """Pause or resume. Resuming starts from ``now``: fire times while paused are skipped."""
        record = self.get(name)
        now = time.time() if now is None else now
        values: dict[str, Any] = {"paused": int(paused), "updated_at": now}
        if not paused and record.paused:
            values["start_at"] = max(record.start_at, now)
        with self.db.write() as conn:
            conn.execute(update(schedules).where(schedules.c.id == record.id).values(**values))
            record_change(conn, "schedule", record.name, "pause" if paused else "resume")
        return self.get(record.id)

    def update(
        self, name: str, notebook_path: str, options: ScheduleOptions, now: float | None = None
    ) -> ScheduleRecord:
        """Change a schedule's notebook and options (validated already), keeping its history.

        A new cron or timezone starts from ``now``: fire times of the old one are not caught up.
        """
        record = self.get(name)
        now = time.time() if now is None else now
        values: dict[str, Any] = {
            **{f.name: getattr(options, f.name) for f in fields(ScheduleOptions)},
            "notebook_path": notebook_path,
            "parameters": json.dumps(options.parameters or {}, sort_keys=True, default=str),
            "updated_at": now,
        }
        if (options.cron, options.timezone) != (record.cron, record.timezone):
            values["start_at"] = max(record.start_at, now)
        with self.db.write() as conn:
            conn.execute(update(schedules).where(schedules.c.id == record.id).values(**values))
            record_change(conn, "schedule", record.name, "update",
                          {"notebook": notebook_path, "cron": options.cron})  # fmt: skip
        return self.get(record.id)

    def delete(self, name: str) -> ScheduleRecord:
        """Delete a schedule and its slot history (runs stay in the store)."""
        record = self.get(name)
        with self.db.write() as conn:
            slot_ids = select(schedule_slots.c.id).where(schedule_slots.c.schedule_id == record.id)
            conn.execute(
                delete(schedule_slot_runs).where(schedule_slot_runs.c.slot_id.in_(slot_ids))
            )
            conn.execute(delete(schedule_slots).where(schedule_slots.c.schedule_id == record.id))
            conn.execute(delete(schedules).where(schedules.c.id == record.id))
            record_change(conn, "schedule", record.name, "delete",
                          {"notebook": record.notebook_path})  # fmt: skip
        return record

    def history(self, name: str, limit: int = 50) -> builtins.list[dict[str, Any]]:
        """Return the newest slots of a schedule, each with its attempts (oldest attempt first)."""
        record = self.get(name)
        with self.db.read() as conn:
            slots = conn.execute(
                select(schedule_slots)
                .where(schedule_slots.c.schedule_id == record.id)
                .order_by(schedule_slots.c.slot_time.desc())
                .limit(limit)
            ).all()
            ids = [s.id for s in slots]
            attempts = conn.execute(
                select(schedule_slot_runs)
                .where(schedule_slot_runs.c.slot_id.in_(ids))
                .order_by(schedule_slot_runs.c.slot_id, schedule_slot_runs.c.attempt)
            ).all() if ids else []  # fmt: skip
            # A running attempt's run exists before the attempt ends: find it by its tag.
            running = [f"{a.slot_id}:{a.attempt}" for a in attempts if a.status == RUNNING]
            live = dict(
                conn.execute(
                    select(tags.c.value, tags.c.run_id).where(
                        tags.c.key == Tag.SLOT_ATTEMPT, tags.c.value.in_(running)
                    )
                ).all()
            ) if running else {}  # fmt: skip
        by_slot: dict[int, list[dict[str, Any]]] = {}
        for a in attempts:
            attempt = dict(a._mapping)
            attempt["run_id"] = attempt["run_id"] or live.get(f"{a.slot_id}:{a.attempt}")
            by_slot.setdefault(a.slot_id, []).append(attempt)
        out = []
        for s in slots:
            slot = dict(s._mapping, attempts=by_slot.get(s.id, []))
            if slot["status"] == RUNNING and slot["attempts"]:
                slot["run_id"] = slot["attempts"][-1]["run_id"]
            out.append(slot)
        return out

    def slot_counts(self) -> dict[int, dict[str, Any]]:
        """Per schedule id: the latest slot time and status (for ``mlops schedule ls``)."""
        with self.db.read() as conn:
            latest = (
                select(
                    schedule_slots.c.schedule_id, func.max(schedule_slots.c.slot_time).label("t")
                )
                .group_by(schedule_slots.c.schedule_id)
                .subquery()
            )
            rows = conn.execute(
                select(schedule_slots.c.schedule_id, schedule_slots.c.slot_time,
                       schedule_slots.c.status, schedule_slots.c.run_id)
                .join(latest, (latest.c.schedule_id == schedule_slots.c.schedule_id)
                      & (latest.c.t == schedule_slots.c.slot_time))
            ).all()  # fmt: skip
        return {r.schedule_id: {"slot_time": r.slot_time, "status": r.status, "run_id": r.run_id}
                for r in rows}  # fmt: skip
