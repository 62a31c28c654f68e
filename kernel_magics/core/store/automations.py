"""Automations: stored as their spec, listed, paused, resumed, replaced and deleted.

An automation is stored as its :class:`~kernel_magics.core.automations.spec.AutomationSpec`
(JSON). Its trigger events (stored once, claimed under a lease, run exactly once) are the
repository's mixin, :class:`~.automation_events.AutomationEvents`.
"""

from __future__ import annotations

import builtins
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from ...errors import AutomationNotFoundError, ConflictError
from ..automations.spec import AutomationSpec
from .audit import record_change
from .automation_events import AutomationEvents
from .db import Database
from .schema import model_versions, models
from .schema_automations import automation_event_runs, automation_events, automations


@dataclass(frozen=True)
class AutomationRecord:
    """One stored automation: its spec plus identity and state.

    Attributes
    ----------
    id : int
        Database id.
    spec : AutomationSpec
        What it does (``spec.enabled`` is the stored state).
    start_at : float
        UTC epoch: only cron fire times after it count (creation, or the last resume).
    start_mark : int or None
        Alert, dataset and model triggers: only incidents / versions with a larger id count.
    created_at, updated_at : float
        UTC epoch seconds.
    """

    id: int
    spec: AutomationSpec
    start_at: float
    start_mark: int | None
    created_at: float
    updated_at: float

    @property
    def name(self) -> str:
        """The automation's unique name."""
        return self.spec.name

    @property
    def enabled(self) -> bool:
        """False while paused."""
        return self.spec.enabled


def _record(row: Any) -> AutomationRecord:
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    spec = AutomationSpec.from_dict(json.loads(data["spec"]))
    return AutomationRecord(data["id"], spec, data["start_at"], data["start_mark"],
                            data["created_at"], data["updated_at"])  # fmt: skip


class AutomationRepository(AutomationEvents):
    """Automations (this module) and their trigger events, claims and history (the mixin)."""

    def __init__(self, db: Database):
        self.db = db

    # -- definitions -------------------------------------------------------------------------
    def create(
        self, spec: AutomationSpec, now: float | None = None, start_mark: int | None = None
    ) -> AutomationRecord:
        """Store a validated automation; ``start_mark`` is its trigger source's newest id.

        Raises
        ------
        ConflictError
            When an automation with that name exists.
        """
        now = time.time() if now is None else now
        row = {**_spec_columns(spec), "start_at": now, "start_mark": start_mark,
               "created_at": now, "updated_at": now}  # fmt: skip
        try:
            with self.db.write() as conn:
                conn.execute(automations.insert(), row)
                detail: dict[str, Any] = {"trigger": spec.trigger.describe()}
                if not spec.enabled:  # added paused (mlops.yaml's enabled: false, --paused)
                    detail["paused"] = True
                record_change(conn, "automation", spec.name, "create", detail)
        except IntegrityError:
            raise ConflictError(
                f"An automation named {spec.name!r} already exists. Pick another name, or "
                f"remove it first with `mlops automation rm {spec.name}`."
            ) from None
        return self.get(spec.name)

    def replace(
        self, spec: AutomationSpec, now: float | None = None, start_mark: int | None = None
    ) -> AutomationRecord:
        """Change a stored automation to ``spec`` (same name).

        A resume, or a new trigger, restarts ``start_at`` (and ``start_mark``): what happened
        before is not an event of the changed automation.
        """
        record = self.get(spec.name)
        now = time.time() if now is None else now
        values: dict[str, Any] = {**_spec_columns(spec), "updated_at": now}
        if (spec.enabled and not record.enabled) or spec.trigger != record.spec.trigger:
            values["start_at"] = max(record.start_at, now)
            values["start_mark"] = start_mark
        before, after = record.spec.to_dict(), spec.to_dict()
        changed = sorted(k for k in after if after[k] != before.get(k))
        if changed == ["enabled"]:  # mlops apply pausing or resuming: say so, as the CLI does
            action, detail = ("resume" if spec.enabled else "pause"), None
        else:
            action, detail = "update", {"trigger": spec.trigger.describe(), "changed": changed}
        with self.db.write() as conn:
            conn.execute(update(automations).where(automations.c.id == record.id).values(values))
            record_change(conn, "automation", spec.name, action, detail)
        return self.get(record.id)

    def get(self, name_or_id: str | int) -> AutomationRecord:
        """One automation by name (or id).

        Raises
        ------
        AutomationNotFoundError
            When there is none; the message lists the known names.
        """
        column = automations.c.id if isinstance(name_or_id, int) else automations.c.name
        with self.db.read() as conn:
            row = conn.execute(select(automations).where(column == name_or_id)).first()
            if row is None:
                names = conn.execute(select(automations.c.name).order_by(automations.c.name))
                known = [r[0] for r in names]
        if row is None:
            hint = f" Known: {', '.join(known[:20])}." if known else " There are none yet."
            raise AutomationNotFoundError(
                f"No automation named {name_or_id!r}.{hint} Add one with `mlops automation add`."
            )
        return _record(row)

    def list(self) -> builtins.list[AutomationRecord]:
        """Every automation, by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(automations).order_by(automations.c.name)).all()
        return [_record(r) for r in rows]

    def set_enabled(
        self, name: str, enabled: bool, now: float | None = None, start_mark: int | None = None
    ) -> AutomationRecord:
        """Pause or resume; resuming counts events from ``now`` / ``start_mark`` on.

        Events that happened while paused are skipped, as a paused schedule skips fire times.
        """
        from dataclasses import replace

        record = self.get(name)
        now = time.time() if now is None else now
        spec = replace(record.spec, enabled=enabled)
        values: dict[str, Any] = {"spec": _spec_json(spec), "enabled": int(enabled),
                                  "updated_at": now}  # fmt: skip
        if enabled and not record.enabled:
            values["start_at"] = max(record.start_at, now)
            values["start_mark"] = start_mark
        with self.db.write() as conn:
            conn.execute(update(automations).where(automations.c.id == record.id).values(values))
            record_change(conn, "automation", name, "resume" if enabled else "pause")
        return self.get(record.id)

    def delete(self, name: str) -> AutomationRecord:
        """Delete an automation and its event history (its runs stay in the store)."""
        record = self.get(name)
        with self.db.write() as conn:
            event_ids = select(automation_events.c.id).where(
                automation_events.c.automation_id == record.id
            )
            conn.execute(
                delete(automation_event_runs).where(automation_event_runs.c.event_id.in_(event_ids))
            )
            conn.execute(
                delete(automation_events).where(automation_events.c.automation_id == record.id)
            )
            conn.execute(delete(automations).where(automations.c.id == record.id))
            record_change(conn, "automation", name, "delete")
        return record

    # -- reading -----------------------------------------------------------------------------
    def _record_of(self, conn: Connection, automation_id: int) -> AutomationRecord:
        return _record(
            conn.execute(select(automations).where(automations.c.id == automation_id)).one()
        )

    def registered_by(self, run_id: str) -> builtins.list[tuple[str, int]]:
        """``(model, version)`` of the versions a run registered, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(models.c.name, model_versions.c.version)
                .join(models, models.c.id == model_versions.c.model_id)
                .where(model_versions.c.run_id == run_id)
                .order_by(model_versions.c.id)
            ).all()
        return [(r.name, int(r.version)) for r in rows]


def _spec_json(spec: AutomationSpec) -> str:
    return json.dumps(spec.to_dict(), sort_keys=True, default=str)


def _spec_columns(spec: AutomationSpec) -> dict[str, Any]:
    return {
        "name": spec.name, "spec": _spec_json(spec), "trigger_kind": spec.trigger.kind,
        "trigger_target": spec.trigger.target, "enabled": int(spec.enabled),
    }  # fmt: skip
