"""The audit trail and notes as tables (``mlops audit``, ``mlops note``, ``%mlops note``)."""

from __future__ import annotations

import json
from typing import Any

from .formatting import short, when
from .table import Column, Table, table

EMPTY_AUDIT = (
    "No recorded changes match. Changes to aliases, deployments, schedules, alerts, automations "
    "and notes are recorded from now on; widen --since or drop --kind."
)


def _detail(detail: dict[str, Any] | None) -> str:
    if not detail:
        return ""
    parts = []
    for key, val in detail.items():
        if val is None or val == []:
            continue
        parts.append(f"{key}={val if isinstance(val, (str, int, float)) else json.dumps(val)}")
    return short(", ".join(parts), 80)


def audit_table(entries: list[Any], more: bool = False) -> Table:
    """Entries, newest first: when, who, kind, target, action, details.

    Parameters
    ----------
    entries : list of AuditEntry
    more : bool
        Whether older entries were left out (the note says how to see them).
    """
    rows = [[when(e.at), e.actor, e.kind, e.target, e.action, _detail(e.detail)]
            for e in entries]  # fmt: skip
    note = "" if entries else EMPTY_AUDIT
    if more:
        note = "Older entries left out: raise --limit, or narrow with --since/--kind/--target."
    return table(
        [Column("When", "time", 90), Column("Who", "id", 85), Column("Kind", priority=80),
         Column("Target", "id", 95), Column("Action", "status", 88),
         Column("Detail", priority=30)],
        rows, None, note,
    )  # fmt: skip


def notes_table(label: str, notes: list[Any]) -> Table:
    """An item's notes, oldest first: when, author, text (folded, never cut).

    Parameters
    ----------
    label : str
        The item, as its title reads (``run 1a2b3c4d``, ``churn/7``, ``deployment 3``).
    notes : list of NoteRecord
    """
    rows = [[when(n.created_at), n.author, n.text] for n in notes]
    empty = f'No notes on {label} yet: mlops note TARGET "text" adds one.'
    return table(
        [Column("When", "time", 90), Column("Author", "id", 80), Column("Note", priority=95)],
        rows, f"Notes on {label}", "" if notes else empty,
    )  # fmt: skip
