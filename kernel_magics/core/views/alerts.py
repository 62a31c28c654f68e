"""Alert rules and incidents as tables (``mlops alerts ls/history``, ``%mlops alerts``).

Times read in UTC, to the minute: rules are evaluated on UTC minute boundaries.
"""

from __future__ import annotations

from typing import Any

from .formatting import duration, short, when
from .table import Column, Table, table

EMPTY_NOTE = "No alerts yet: mlops alerts add NAME --model REF --when 'accuracy < 0.85'"


def _window(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def rule_state(rule: Any, incident: Any | None) -> str:
    """``firing`` while an incident is open, else ``paused`` or ``active``."""
    if incident is not None:
        return "firing"
    return "paused" if rule.paused else "active"


def alerts_table(rules: list[Any], open_incidents: dict[int, Any]) -> Table:
    """Each rule: name, state, model, conditions, window, channels, open since, last evaluated.

    Parameters
    ----------
    rules : list of AlertRule
    open_incidents : dict
        The open incident of each firing rule, by rule id.
    """
    rows = []
    for r in rules:
        incident = open_incidents.get(r.id)
        rows.append([r.name, rule_state(r, incident), r.model_ref, " or ".join(r.conditions),
                     _window(r.window_s), ", ".join(c.partition(":")[0] for c in r.notify),
                     when(incident.opened_at, "UTC") if incident else "",
                     when(r.evaluated_at, "UTC")])  # fmt: skip
    return table(
        [Column("Name", "id", 100), Column("State", "status", 95), Column("Model", "id", 90),
         Column("When", priority=85), Column("Window", priority=60),
         Column("Notify", priority=30), Column("Firing since", "time", 70),
         Column("Evaluated", "time", 40)],
        rows, None, "" if rules else EMPTY_NOTE,
    )  # fmt: skip


def incidents_table(incidents: list[Any]) -> Table:
    """Incidents, newest first: rule, state, opened, resolved, how long, what broke, delivery."""
    rows = []
    for i in incidents:
        end = i.resolved_at if i.resolved_at is not None else i.last_seen_at
        broke = ", ".join(f"{cond} (was {value:.4g})" for cond, value in i.broken.items())
        delivery = "failed: " + short(i.notify_error, 40) if i.notify_error else (
            "sent" if i.notified_at is not None else "")  # fmt: skip
        rows.append([i.id, i.rule, "open" if i.is_open else "resolved", when(i.opened_at, "UTC"),
                     when(i.resolved_at, "UTC"), duration(end - i.opened_at), broke,
                     delivery])  # fmt: skip
    return table(
        [Column("Incident", "id", 60), Column("Alert", "id", 100),
         Column("State", "status", 95), Column("Opened", "time", 90),
         Column("Resolved", "time", 80), Column("Lasted", priority=50),
         Column("Broke", priority=85), Column("Notified", priority=40)],
        rows, None, "" if incidents else "No incidents.",
    )  # fmt: skip
