"""Automations, their events and an execution's steps as tables (``mlops automation ...``)."""

from __future__ import annotations

from typing import Any

from .formatting import duration, short, short_id, when
from .table import Column, Table, table

EMPTY_NOTE = (
    "No automations yet: mlops automation add NAME --on-dataset DATA "
    "--step '{run_notebook: {notebook: train.ipynb}}' --step test"
)


def _counts(counts: dict[str, int]) -> str:
    order = ("finished", "failed", "crashed", "killed", "running", "retrying", "pending")
    return ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s))


def automations_table(records: list[Any], counts: dict[int, dict[str, int]]) -> Table:
    """Each automation: name, state, trigger, steps, events by status, retries, created.

    Parameters
    ----------
    records : list of AutomationRecord
    counts : dict
        ``{automation id: {event status: count}}`` (``store.automations.event_counts()``).
    """
    rows = []
    for r in records:
        spec = r.spec
        rows.append([r.name, "active" if r.enabled else "paused", spec.trigger.describe(),
                     " > ".join(s.kind for s in spec.steps), _counts(counts.get(r.id, {})),
                     str(spec.retries), when(r.created_at)])  # fmt: skip
    return table(
        [Column("Name", "id", 100), Column("State", "status", 95), Column("Trigger", priority=90),
         Column("Steps", priority=80), Column("Events", priority=70),
         Column("Retries", "number", 30), Column("Created", "time", 40)],
        rows, None, "" if records else EMPTY_NOTE,
    )  # fmt: skip


def history_table(events: list[dict[str, Any]]) -> Table:
    """Trigger events, newest first: event, status, attempts, parent run, failed step, error."""
    rows = []
    for e in events:
        attempts = e.get("attempts") or []
        last = attempts[-1] if attempts else {}
        took = None
        if last.get("ended_at") is not None:
            took = last["ended_at"] - last["started_at"]
        rows.append([e["event_key"], e["status"], str(e["attempt"]),
                     short_id(e.get("run_id")), last.get("step") or "",
                     short(e.get("error") or "", 80), when(last.get("started_at")),
                     duration(took)])  # fmt: skip
    return table(
        [Column("Event", "id", 100), Column("Status", "status", 95),
         Column("Attempts", "number", 50), Column("Run", "id", 80),
         Column("Failed step", priority=70), Column("Error", priority=75),
         Column("Started", "time", 60), Column("Took", priority=40)],
        rows, None, "" if events else "No events yet.",
    )  # fmt: skip


def steps_table(execution: Any) -> Table:
    """One execution's steps in order: step, status, child run, what it did or why it failed."""
    rows = [[f"{s.index}. {s.kind}", s.status, short_id(s.run_id), s.result or ""]
            for s in execution.steps]  # fmt: skip
    note = f"Parent run {short_id(execution.run_id)}: {execution.status}"
    if execution.error:
        note += f" ({execution.error})"
    return table(
        [Column("Step", "id", 100), Column("Status", "status", 95), Column("Run", "id", 80),
         Column("Result", priority=90)],
        rows, f"automation {execution.automation} · {execution.event_key}", note,
    )  # fmt: skip
