"""Model servers as tables: the deployment list (with live health) and one deployment's events.

The functions take the deployment records :mod:`kernel_magics.core.serving.deployments` returns
(``id, ref, url, status, pid, created_at``); ``mlops deployments`` and ``%mlops deploy /
deployments / rollback`` render the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formatting import short, when
from .table import Column, Table, table

#: What the Health column says for a running server that did not answer.
NO_ANSWER = "no answer"


def deployments_table(
    deployments: Sequence[Any],
    title: str | None = "Deployments",
    note: str = "",
    health: dict[int, dict | None] | None = None,
) -> Table:
    """Id, what it serves, URL, status, pid and start time of each deployment.

    Parameters
    ----------
    deployments : sequence of DeploymentRecord
    title, note : str
        ``note`` defaults to "No deployments." for an empty list.
    health : dict, optional
        ``/health`` answers by deployment id (None for no answer): adds a Health column.
    """
    columns: list[Column | str] = [
        Column("Id", "id", 100), Column("Serves", priority=90), Column("URL", "id", 80),
        Column("Status", "status", 95), Column("Pid", priority=30), Column("Started", "time", 40),
    ]  # fmt: skip
    rows = [[d.id, d.ref, d.url, d.status, d.pid, when(d.created_at)] for d in deployments]
    if health is not None:
        columns.append(Column("Health", "status", 85))
        for d, row in zip(deployments, rows, strict=True):
            answer = health.get(d.id)
            row.append("" if d.status != "running" else answer["status"] if answer else NO_ANSWER)
    return table(columns, rows, title, note or ("" if rows else "No deployments."))


def events_table(events: list[dict[str, Any]]) -> Table:
    """A deployment's history: when, what happened, the detail (cut to 200 characters)."""
    return table(
        [Column("When", "time", 90), Column("Event", priority=100), Column("Detail", priority=40)],
        [[when(e["at"]), e["event"], short(e["detail"], 200)] for e in events],
        "Events",
    )
