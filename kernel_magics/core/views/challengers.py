"""Challengers and deployment guards as tables (``mlops challenger status``, ``ls``, ``guards``)."""

from __future__ import annotations

from typing import Any

from .formatting import when
from .table import Column, Table, table

EMPTY_CHALLENGERS = "No challengers yet: mlops challenger start churn@production churn/4 --shadow"
EMPTY_GUARDS = "No guards yet: mlops deploy churn@production --guard 'errors.rate < 0.01' --for 15m"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} ms"


def _mode(c: Any) -> str:
    return f"canary {c.share:.0%}" if c.mode == "canary" else c.mode


def status_table(status: Any) -> Table:
    """Champion and challenger side by side: requests, error rate, p50/p99 latency.

    ``status`` is a :class:`~kernel_magics.core.serving.challengers.ChallengerStatus`; the
    title names the challenger, its state and guards, the note its agreement and drops.
    """
    c = status.challenger
    figures = status.figures()
    versions = {"champion": f"{c.model}/{c.champion_version}", "challenger": c.challenger_ref}
    rows = [
        [role, versions[role], int(f["requests"] or 0), _pct(f["errors.rate"]),
         _ms(f["latency.p50_ms"]), _ms(f["latency.p99_ms"])]
        for role, f in figures.items()
    ]  # fmt: skip
    guards = " and ".join(c.guards) or "no guards"
    title = (f"Challenger {c.id} of {c.target}: {_mode(c)}, {c.status} "
             f"(guards: {guards}; {c.guard_state})")  # fmt: skip
    notes = []
    if status.agreement is not None:
        notes.append(f"Agreement {status.agreement:.1%} over {status.stats.compared_rows} rows")
    if status.mean_abs_diff is not None and status.mean_abs_diff:
        notes.append(f"mean |difference| {status.mean_abs_diff:.4g}")
    if status.stats.dropped:
        notes.append(f"{status.stats.dropped} shadow requests dropped (queue full)")
    if c.reason:
        notes.append(f"Ended: {c.reason}")
    return table(
        [Column("Role", "id", 100), Column("Version", "id", 95), Column("Requests", "number", 90),
         Column("Errors", "number", 85), Column("p50", "number", 70),
         Column("p99", "number", 75)],
        rows, title, "; ".join(notes) + ("." if notes else ""),
    )  # fmt: skip


def challengers_table(records: list[Any]) -> Table:
    """Challengers, newest first: id, target, challenger, mode, status, guard, started, reason."""
    rows = [
        [c.id, c.target, c.challenger_ref, _mode(c), c.status, c.guard_state,
         when(c.started_at), c.reason or ""]
        for c in records
    ]  # fmt: skip
    return table(
        [Column("Id", "id", 100), Column("Deployment", "id", 95), Column("Challenger", "id", 95),
         Column("Mode", priority=80), Column("Status", "status", 90),
         Column("Guard", "status", 60), Column("Started", "time", 50),
         Column("Reason", priority=40)],
        rows, None, "" if records else EMPTY_CHALLENGERS,
    )  # fmt: skip


def guards_table(guards: list[Any]) -> Table:
    """Deployment guards, newest first: target, version, conditions, status, until, reason."""
    rows = [
        [g.id, f"{g.model}@{g.alias}", g.version, " and ".join(g.conditions), g.status,
         when(g.until), g.reason or ""]
        for g in guards
    ]  # fmt: skip
    return table(
        [Column("Id", "id", 100), Column("Deployment", "id", 95), Column("Version", "number", 90),
         Column("Guards", priority=85), Column("Status", "status", 90),
         Column("Until", "time", 60), Column("Reason", priority=40)],
        rows, None, "" if guards else EMPTY_GUARDS,
    )  # fmt: skip
