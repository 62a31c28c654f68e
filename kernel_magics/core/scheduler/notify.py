"""Tell someone that a slot failed for good or an alert opened: a command or a webhook.

A command gets the JSON message on stdin, a webhook as a POST body. The messages::

    {"event": "slot_failed", "schedule": "nightly", "notebook": "/abs/train.ipynb",
     "slot": "2026-11-23T03:00:00+01:00", "slot_time": 1795399200.0, "attempt": 3,
     "run_id": "9f0c...", "status": "failed", "error": "Cell 4 raised ValueError: ..."}

    {"event": "alert_opened", "alert": "churn-quality", "model": "churn@production",
     "incident": 7, "opened": "2026-11-23T03:01:00+00:00", "opened_at": 1795402860.0,
     "window": {"start": 1795399260.0, "end": 1795402860.0, "seconds": 3600.0},
     "conditions": ["accuracy < 0.85"], "values": {"accuracy < 0.85": 0.81}}

The command is split with ``shlex`` and run without a shell, with the JSON on stdin and in the
``MLOPS_NOTIFICATION`` environment variable. Notification problems are logged, never raised: a
broken webhook must not stop the scheduler.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shlex
import subprocess
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from ...errors import InvalidScheduleError

log = logging.getLogger("kernel_magics.scheduler")
NOTIFY_TIMEOUT_S = 30.0


def check_command(
    command: str | None,
    option: str = "--notify-command",
    error: type[Exception] = InvalidScheduleError,
) -> str | None:
    """Validate a notification command (it must split into a program and arguments).

    ``option`` names the setting in the message and ``error`` is the class raised (alerts
    reuse this check with their own ``--notify command:...`` form).
    """
    if not command:
        return None
    try:
        parts = shlex.split(command)
    except ValueError as exc:
        raise error(f"Cannot parse {option} {command!r}: {exc}.") from None
    if not parts:
        raise error(f"{option} is empty; give a program to run.")
    return command


def check_webhook(
    url: str | None, option: str = "--notify-webhook", error: type[Exception] = InvalidScheduleError
) -> str | None:
    """Validate a webhook URL (http or https with a host); ``option``/``error`` as above."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise error(
            f"{option} {url!r} is not an http(s) URL; give e.g. https://hooks.example.com/mlops."
        )
    return url


def message(end: Any) -> dict[str, Any]:
    """Build the JSON-ready notification for a :class:`~.slots.SlotEnd`."""
    schedule = end.schedule
    slot = dt.datetime.fromtimestamp(end.slot_time, ZoneInfo(schedule.timezone))
    return {
        "event": "slot_failed", "schedule": schedule.name, "notebook": schedule.notebook_path,
        "slot": slot.isoformat(), "slot_time": end.slot_time, "attempt": end.attempt,
        "run_id": end.run_id, "status": end.slot_status, "error": end.error,
    }  # fmt: skip


def alert_message(rule: Any, incident: Any) -> dict[str, Any]:
    """Build the JSON-ready notification of a newly opened alert incident."""
    opened = dt.datetime.fromtimestamp(incident.opened_at, dt.timezone.utc)
    return {
        "event": "alert_opened", "alert": rule.name, "model": rule.model_ref,
        "incident": incident.id, "opened": opened.isoformat(), "opened_at": incident.opened_at,
        "window": {"start": incident.window_start, "end": incident.window_end,
                   "seconds": rule.window_s},
        "conditions": list(rule.conditions), "values": dict(incident.broken),
    }  # fmt: skip


def send(end: Any) -> list[str]:
    """Deliver the notification of a failed slot; return the problems met (empty when fine)."""
    schedule = end.schedule
    problems = deliver(message(end), command=schedule.notify_command,
                       webhook=schedule.notify_webhook)  # fmt: skip
    for problem in problems:
        log.warning("schedule %s: %s", schedule.name, problem)
    return problems


def deliver(
    msg: dict[str, Any], *, command: str | None = None, webhook: str | None = None
) -> list[str]:
    """Send one JSON message to a command (stdin) and/or a webhook (POST); return problems.

    Every kind of message (``slot_failed``, ``alert_opened``...) goes through here, so all of
    them reach their targets the same way.
    """
    payload = json.dumps(msg)
    problems = []
    if command:
        env = dict(os.environ, MLOPS_NOTIFICATION=payload)
        try:
            done = subprocess.run(
                shlex.split(command), input=payload, text=True, env=env,
                capture_output=True, timeout=NOTIFY_TIMEOUT_S, check=False,
            )  # fmt: skip
            if done.returncode:
                problems.append(f"notify command exited {done.returncode}: {done.stderr[-500:]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"notify command failed: {exc}")
    if webhook:
        import urllib.request

        request = urllib.request.Request(
            webhook, data=payload.encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "jupyter-mlops"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT_S) as response:
                response.read()
        except OSError as exc:
            problems.append(f"webhook {webhook} failed: {exc}")
    return problems
