"""Tell someone that a slot failed for good: a command (JSON on stdin) or a webhook (JSON POST).

The message::

    {"event": "slot_failed", "schedule": "nightly", "notebook": "/abs/train.ipynb",
     "slot": "2026-11-23T03:00:00+01:00", "slot_time": 1795399200.0, "attempt": 3,
     "run_id": "9f0c...", "status": "failed", "error": "Cell 4 raised ValueError: ..."}

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


def check_command(command: str | None) -> str | None:
    """Validate a notification command (it must split into a program and arguments)."""
    if not command:
        return None
    try:
        parts = shlex.split(command)
    except ValueError as exc:
        raise InvalidScheduleError(f"Cannot parse --notify-command {command!r}: {exc}.") from None
    if not parts:
        raise InvalidScheduleError("--notify-command is empty; give a program to run.")
    return command


def check_webhook(url: str | None) -> str | None:
    """Validate a webhook URL (http or https with a host)."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidScheduleError(
            f"--notify-webhook {url!r} is not an http(s) URL; give e.g. "
            "https://hooks.example.com/mlops."
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


def send(end: Any) -> list[str]:
    """Deliver the notification of a failed slot; return the problems met (empty when fine)."""
    schedule = end.schedule
    payload = json.dumps(message(end))
    problems = []
    if schedule.notify_command:
        env = dict(os.environ, MLOPS_NOTIFICATION=payload)
        try:
            done = subprocess.run(
                shlex.split(schedule.notify_command), input=payload, text=True, env=env,
                capture_output=True, timeout=NOTIFY_TIMEOUT_S, check=False,
            )  # fmt: skip
            if done.returncode:
                problems.append(f"notify command exited {done.returncode}: {done.stderr[-500:]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"notify command failed: {exc}")
    if schedule.notify_webhook:
        import urllib.request

        request = urllib.request.Request(
            schedule.notify_webhook, data=payload.encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "jupyter-mlops"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT_S) as response:
                response.read()
        except OSError as exc:
            problems.append(f"webhook {schedule.notify_webhook} failed: {exc}")
    for problem in problems:
        log.warning("schedule %s: %s", schedule.name, problem)
    return problems
