"""Schedules as tables: the schedule list, one schedule's settings, its slot history.

Times of a schedule read in the schedule's own timezone (``2026-12-02 03:00 UTC``), since that
is the zone its cron expression is written in.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .formatting import fire_time, short, short_id, when
from .table import Column, Table, table


def state(record: Any) -> str:
    """``paused`` or ``active``."""
    return "paused" if record.paused else "active"


def schedules_table(
    records: list[Any], next_runs: dict[int, dt.datetime | None], last: dict[int, dict]
) -> Table:
    """Each schedule: name, state, cron, timezone, next fire time, last slot and its status.

    Parameters
    ----------
    records : list of ScheduleRecord
    next_runs : dict
        Next fire time by schedule id (None while paused).
    last : dict
        The latest slot (``slot_time``, ``status``) by schedule id.
    """
    rows = []
    for r in records:
        prev = last.get(r.id) or {}
        upcoming = next_runs.get(r.id)
        rows.append([r.name, state(r), r.cron, r.timezone,
                     fire_time(upcoming) if upcoming else "",
                     when(prev.get("slot_time"), r.timezone), prev.get("status"),
                     r.notebook_path])  # fmt: skip
    return table(
        [Column("Name", priority=100), Column("State", "status", 90), Column("Cron", "id", 80),
         Column("Timezone", priority=30), Column("Next run", "time", 70),
         Column("Last slot", "time", 50), Column("Status", "status", 60),
         Column("Notebook", priority=40)],
        rows, None, "" if records else "No schedules yet: mlops schedule add NOTEBOOK --cron ...",
    )  # fmt: skip


def schedule_fields(record: Any, upcoming: list[dt.datetime]) -> list[tuple[str, str]]:
    """A schedule's settings as labelled values, in display order."""
    return [
        ("Name", record.name), ("State", state(record)), ("Notebook", record.notebook_path),
        ("Cron", f"{record.cron} ({record.timezone})"),
        ("Parameters", json.dumps(record.parameters)), ("Experiment", record.experiment or ""),
        ("Timeout", f"{record.timeout:g} s" if record.timeout else "none"),
        ("Retries", f"{record.retries} every {record.retry_delay:g} s"),
        ("Catch-up", record.catchup),
        ("Notify", record.notify_command or record.notify_webhook or "nobody"),
        ("Next runs", ", ".join(fire_time(t) for t in upcoming) or "paused"),
    ]  # fmt: skip


def slots_table(record: Any, slots: list[dict[str, Any]]) -> Table:
    """A schedule's slots, newest first: fire time, trigger, status, attempts, run, error."""
    return table(
        [Column("Slot", "time", 100), "Trigger", Column("Status", "status", 90),
         Column("Attempts", priority=40), Column("Run", "id", 80), Column("Error", priority=30)],
        [[when(s["slot_time"], record.timezone), s["trigger"], s["status"], s["attempt"],
          short_id(s["run_id"]), short(s["error"])] for s in slots],
    )  # fmt: skip


def next_runs_lines(upcoming: list[dt.datetime]) -> list[str]:
    """``Next runs:`` and one indented line per fire time, with the weekday."""
    return ["Next runs:"] + [f"  {fire_time(t, weekday=True)}" for t in upcoming]
