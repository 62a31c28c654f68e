"""Cron schedules for notebooks: each fire time runs exactly once, as a tracked papermill run.

- :mod:`.cron`: cron and timezone validation, DST-correct fire times;
- :mod:`.store`: schedules (create, list, pause, resume, delete, history);
- :mod:`.slots`: one slot per (schedule, fire time), claimed under leases;
- :mod:`.catchup`: what runs after downtime (``latest`` / ``all`` / ``none``);
- :mod:`.daemon`: the scheduler loop (``BaseScheduler`` / ``Scheduler``);
- :mod:`.executors`: what a slot runs (``RunnerExecutor``: papermill);
- :mod:`.notify`: the failure notification (command or webhook);
- :mod:`.api`: the public functions (``mlops.schedule(...)`` and friends).

Nothing heavy is imported here.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "Scheduler": "daemon", "BaseScheduler": "daemon", "start_background_scheduler": "daemon",
    "schedule": "api", "schedules": "api", "get_schedule": "api", "pause_schedule": "api",
    "resume_schedule": "api", "delete_schedule": "api", "run_schedule_now": "api",
    "schedule_history": "api", "next_runs": "api",
}  # fmt: skip

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
