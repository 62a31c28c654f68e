"""``mlops apply``'s plan as a table: one row per change, each changed field old -> new."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .formatting import short
from .table import Column, Table, table

if TYPE_CHECKING:
    from ..gitops.plan import Plan


def _value(item: Any) -> str:
    if item is None:
        return "(none)"
    if isinstance(item, str):
        return repr(item)
    return json.dumps(item, default=str, sort_keys=True)


def plan_table(plan: Plan, file_name: str = "mlops.yaml") -> Table:
    """Action, kind, name and what changes (``cron '0 3 * * *' -> '0 4 * * *'``)."""
    rows = []
    for change in plan.changes:
        what = "; ".join(f"{f.field}: {short(_value(f.old), 60)} -> {short(_value(f.new), 60)}"
                         for f in change.fields)  # fmt: skip
        if change.action == "create":
            what = f"new, from {file_name}"
        rows.append([change.action, change.kind, change.name, what])
    note = ""
    if plan.unmanaged:
        names = ", ".join(f"{kind} {name}" for kind, name in plan.unmanaged)
        note = f"Not in {file_name}, kept: {names} (--prune pauses them, --prune --delete deletes)."
    return table(
        [Column("Action", "status", 100), Column("Kind", priority=90),
         Column("Name", "id", 95), Column("Change", priority=80)],
        rows, f"{file_name} vs the store", note,
    )  # fmt: skip
