"""Alert rules and their incidents: the ``store.alerts`` repository.

A rule is stored already validated (conditions parsed, window and channels checked) by
:mod:`kernel_magics.core.monitoring.alerts`; this module only reads and writes rows. The
evaluation claim (:meth:`AlertRepository.claim_due`) is one write transaction, so of any number
of schedulers exactly one evaluates a rule for a given minute, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import builtins
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...errors import AlertNotFoundError, ConflictError
from .audit import record_change
from .db import Database
from .schema_alerts import alert_incidents, alert_rules


@dataclass(frozen=True)
class AlertRule:
    """One alert rule as stored.

    Attributes
    ----------
    id, name : int, str
        Identity; ``name`` is unique in the store.
    model_ref : str
        The monitored model: ``churn``, ``churn@production`` or ``churn/3``.
    conditions : tuple of str
        Normalized conditions (``"accuracy < 0.85"``); the rule fires when any holds.
    window_s : float
        Seconds of monitoring data each evaluation looks at.
    notify : tuple of str
        Channels told when an incident opens (``command:...``, ``webhook:...``).
    paused : bool
        Paused rules are not evaluated.
    evaluated_at : float or None
        The latest minute (UTC epoch) the rule was evaluated for.
    created_at, updated_at : float
        UTC epoch seconds.
    """

    id: int
    name: str
    model_ref: str
    conditions: tuple[str, ...]
    window_s: float
    notify: tuple[str, ...]
    paused: bool
    evaluated_at: float | None
    created_at: float
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["conditions"], data["notify"] = list(self.conditions), list(self.notify)
        return data


@dataclass(frozen=True)
class Incident:
    """A time during which a rule's condition held.

    Attributes
    ----------
    id, rule_id : int
    rule : str
        The rule's name.
    opened_at, last_seen_at : float
        When it opened, and the latest evaluation at which it still held.
    resolved_at : float or None
        When its condition cleared; None while open.
    window_start, window_end : float
        The monitoring window that opened it.
    broken : dict
        ``{condition: value}`` of the conditions that held when it opened.
    notified_at : float or None
        When its notification was sent (None: not yet, or no channel).
    notify_error : str or None
        What went wrong delivering it.
    """

    id: int
    rule_id: int
    rule: str
    opened_at: float
    last_seen_at: float
    resolved_at: float | None
    window_start: float
    window_end: float
    broken: dict[str, float]
    notified_at: float | None
    notify_error: str | None

    @property
    def is_open(self) -> bool:
        """True until its condition clears."""
        return self.resolved_at is None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dict(asdict(self), open=self.is_open)


def _rule(row: Any) -> AlertRule:
    m = dict(row._mapping)
    m["conditions"] = tuple(json.loads(m["conditions"]))
    m["notify"] = tuple(json.loads(m["notify"]))
    m["paused"] = bool(m["paused"])
    return AlertRule(**m)


def _incident(row: Any) -> Incident:
    m = dict(row._mapping)
    m["broken"] = json.loads(m["broken"])
    return Incident(**m)


_INCIDENT_COLUMNS = (*alert_incidents.c, alert_rules.c.name.label("rule"))


class AlertRepository:
    """Alert rules and incidents in one store's database."""

    def __init__(self, db: Database):
        self.db = db

    # -- rules ----------------------------------------------------------------------------------
    def create(self, name: str, model_ref: str, conditions: list[str], window_s: float,
               notify: list[str], *, now: float | None = None) -> AlertRule:  # fmt: skip
        """Insert a validated rule; return it.

        Raises
        ------
        ConflictError
            When a rule with this name exists.
        """
        now = time.time() if now is None else now
        row = {"name": name, "model_ref": model_ref, "conditions": json.dumps(list(conditions)),
               "window_s": float(window_s), "notify": json.dumps(list(notify)), "paused": 0,
               "created_at": now, "updated_at": now}  # fmt: skip
        try:
            with self.db.write() as conn:
                conn.execute(alert_rules.insert().values(**row))
                detail = {"model": model_ref, "conditions": list(conditions)}
                record_change(conn, "alert", name, "create", detail)
        except IntegrityError:
            raise ConflictError(
                f"An alert named {name!r} exists already; pick another name, or remove it "
                f"first with `mlops alerts rm {name}`."
            ) from None
        return self.get(name)

    def get(self, name: str) -> AlertRule:
        """The rule named ``name``.

        Raises
        ------
        AlertNotFoundError
            When there is none; the message lists the known rules.
        """
        with self.db.read() as conn:
            row = conn.execute(select(alert_rules).where(alert_rules.c.name == name)).first()
        if row is None:
            names = [r.name for r in self.list()]
            known = f" Known alerts: {', '.join(names)}." if names else " There are none yet."
            raise AlertNotFoundError(f"No alert named {name!r}.{known}")
        return _rule(row)

    def list(self) -> builtins.list[AlertRule]:
        """Every rule, by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(alert_rules).order_by(alert_rules.c.name)).all()
        return [_rule(r) for r in rows]

    def delete(self, name: str) -> AlertRule:
        """Delete a rule and its incidents; return the rule as it was."""
        rule = self.get(name)
        with self.db.write() as conn:
            conn.execute(delete(alert_incidents).where(alert_incidents.c.rule_id == rule.id))
            conn.execute(delete(alert_rules).where(alert_rules.c.id == rule.id))
            record_change(conn, "alert", name, "delete", {"model": rule.model_ref})
        return rule

    def update(self, name: str, model_ref: str, conditions: builtins.list[str],
               window_s: float, notify: builtins.list[str], *,
               now: float | None = None) -> AlertRule:  # fmt: skip
        """Change a rule's model, conditions, window and channels (validated); keep incidents."""
        rule = self.get(name)
        now = time.time() if now is None else now
        values = {"model_ref": model_ref, "conditions": json.dumps(list(conditions)),
                  "window_s": float(window_s), "notify": json.dumps(list(notify)),
                  "updated_at": now}  # fmt: skip
        with self.db.write() as conn:
            conn.execute(update(alert_rules).where(alert_rules.c.id == rule.id).values(**values))
            detail = {"model": model_ref, "conditions": list(conditions)}
            record_change(conn, "alert", name, "update", detail)
        return self.get(name)

    def set_paused(self, name: str, paused: bool, *, now: float | None = None) -> AlertRule:
        """Pause or resume a rule; return it."""
        rule = self.get(name)
        now = time.time() if now is None else now
        with self.db.write() as conn:
            conn.execute(update(alert_rules).where(alert_rules.c.id == rule.id)
                         .values(paused=int(paused), updated_at=now))  # fmt: skip
            record_change(conn, "alert", name, "pause" if paused else "resume")
        return self.get(name)

    def claim_due(self, minute: float) -> builtins.list[AlertRule]:
        """Take every active rule not yet evaluated for ``minute``; return them, by name.

        One write transaction selects the due rules (locking them on PostgreSQL, where a
        concurrent claim waits and then finds them taken) and moves their last evaluated
        minute to ``minute``, so whichever scheduler gets there first evaluates them and every
        other one gets an empty list for that minute.
        """
        due = (alert_rules.c.paused == 0) & or_(alert_rules.c.evaluated_at.is_(None),
                                                 alert_rules.c.evaluated_at < minute)  # fmt: skip
        with self.db.write() as conn:
            rows = conn.execute(
                select(alert_rules).where(due).order_by(alert_rules.c.name).with_for_update()
            ).all()
            if rows:
                conn.execute(update(alert_rules)
                             .where(alert_rules.c.id.in_([r.id for r in rows]), due)
                             .values(evaluated_at=minute))  # fmt: skip
        return [_rule(r) for r in rows]

    # -- incidents ------------------------------------------------------------------------------
    def open_incident(self, rule_id: int) -> Incident | None:
        """The rule's open incident, if any."""
        with self.db.read() as conn:
            row = conn.execute(
                select(*_INCIDENT_COLUMNS)
                .join(alert_rules, alert_rules.c.id == alert_incidents.c.rule_id)
                .where(alert_incidents.c.rule_id == rule_id,
                       alert_incidents.c.resolved_at.is_(None))
                .order_by(alert_incidents.c.id.desc())
            ).first()  # fmt: skip
        return _incident(row) if row else None

    def open_incidents(self) -> dict[int, Incident]:
        """The open incident of every rule that has one, by rule id (one query)."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(*_INCIDENT_COLUMNS)
                .join(alert_rules, alert_rules.c.id == alert_incidents.c.rule_id)
                .where(alert_incidents.c.resolved_at.is_(None))
                .order_by(alert_incidents.c.id)
            ).all()
        return {i.rule_id: i for i in map(_incident, rows)}  # the newest wins, should two be

    def fire(self, rule_id: int, at: float, window: tuple[float, float],
             broken: dict[str, float]) -> tuple[Incident, bool]:  # fmt: skip
        """The rule's condition held at ``at``: open an incident, or keep the open one.

        One write transaction (the rule row locked on PostgreSQL; SQLite has one writer), so
        two evaluators running at once never open two incidents of one rule. A verdict older
        than the open incident's latest one leaves it as it is.

        Returns
        -------
        (Incident, bool)
            The open incident, and whether this call opened it (then it must be notified).
        """
        with self.db.write() as conn:
            conn.execute(select(alert_rules.c.id).where(alert_rules.c.id == rule_id)
                         .with_for_update())  # fmt: skip
            row = conn.execute(
                select(alert_incidents.c.id, alert_incidents.c.last_seen_at)
                .where(alert_incidents.c.rule_id == rule_id,
                       alert_incidents.c.resolved_at.is_(None))
                .order_by(alert_incidents.c.id.desc())
            ).first()  # fmt: skip
            if row is not None:
                if at > row.last_seen_at:
                    conn.execute(update(alert_incidents).where(alert_incidents.c.id == row.id)
                                 .values(last_seen_at=at))  # fmt: skip
                incident_id, created = int(row.id), False
            else:
                key = conn.execute(
                    alert_incidents.insert().values(
                        rule_id=rule_id, opened_at=at, last_seen_at=at, window_start=window[0],
                        window_end=window[1], broken=json.dumps(broken, sort_keys=True),
                    )
                ).inserted_primary_key  # fmt: skip
                assert key is not None
                incident_id, created = int(key[0]), True
        return self.incident(incident_id), created

    def resolve(self, rule_id: int, at: float) -> Incident | None:
        """The condition cleared at ``at``: close the rule's open incident; return it, if any.

        An incident last seen after ``at`` (a newer verdict kept it open) stays open.
        """
        with self.db.write() as conn:
            conn.execute(select(alert_rules.c.id).where(alert_rules.c.id == rule_id)
                         .with_for_update())  # fmt: skip
            row = conn.execute(
                select(alert_incidents.c.id)
                .where(alert_incidents.c.rule_id == rule_id,
                       alert_incidents.c.resolved_at.is_(None),
                       alert_incidents.c.last_seen_at <= at)
                .order_by(alert_incidents.c.id.desc())
            ).first()  # fmt: skip
            if row is None:
                return None
            conn.execute(update(alert_incidents).where(alert_incidents.c.id == row.id)
                         .values(resolved_at=at))  # fmt: skip
        return self.incident(int(row.id))

    def notified(self, incident_id: int, at: float, error: str | None = None) -> None:
        """Record that the incident's notification went out (and what failed, if anything)."""
        with self.db.write() as conn:
            conn.execute(update(alert_incidents).where(alert_incidents.c.id == incident_id)
                         .values(notified_at=at, notify_error=error))  # fmt: skip

    def incident(self, incident_id: int) -> Incident:
        """One incident by id."""
        with self.db.read() as conn:
            row = conn.execute(
                select(*_INCIDENT_COLUMNS)
                .join(alert_rules, alert_rules.c.id == alert_incidents.c.rule_id)
                .where(alert_incidents.c.id == incident_id)
            ).one()
        return _incident(row)

    def history(self, name: str | None = None, limit: int = 50) -> builtins.list[Incident]:
        """Incidents, newest first; only those of rule ``name`` when given."""
        query = (select(*_INCIDENT_COLUMNS)
                 .join(alert_rules, alert_rules.c.id == alert_incidents.c.rule_id)
                 .order_by(alert_incidents.c.opened_at.desc(), alert_incidents.c.id.desc())
                 .limit(limit))  # fmt: skip
        if name is not None:
            query = query.where(alert_incidents.c.rule_id == self.get(name).id)
        with self.db.read() as conn:
            return [_incident(r) for r in conn.execute(query).all()]
