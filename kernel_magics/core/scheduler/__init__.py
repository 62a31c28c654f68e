"""Cron schedules for notebooks: each fire time runs exactly once, as a tracked papermill run.

- :mod:`.cron`: cron and timezone validation, DST-correct fire times;
- :mod:`.catchup`: which fire times become slots, and what runs after downtime (``latest`` /
  ``all`` / ``none``);
- :mod:`.daemon`: the scheduler loop (``BaseScheduler`` / ``Scheduler``);
- :mod:`.executors`: what a slot runs (``RunnerSlotExecutor``: papermill);
- :mod:`.notify`: the failure notification (command or webhook);
- :mod:`.api`: the public functions (``mlops.schedule(...)`` and friends).

Schedules, slots and leases are stored through the store's repositories
(``store.schedules``, ``store.slots``, ``store.leases``; see :mod:`kernel_magics.core.store`).
Nothing heavy is imported here.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {
    "Scheduler": ".daemon", "BaseScheduler": ".daemon", "start_background_scheduler": ".daemon",
    "schedule": ".api", "schedules": ".api", "get_schedule": ".api", "pause_schedule": ".api",
    "resume_schedule": ".api", "delete_schedule": ".api", "run_schedule_now": ".api",
    "schedule_history": ".api", "next_runs": ".api", "ScheduleOptions": ".api",
}  # fmt: skip

__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
