"""The scheduler's share of automations: notice events, reap, claim, start executions.

:class:`AutomationTicker` is owned by a :class:`~kernel_magics.core.scheduler.daemon.Scheduler`
and called from its tick (only where the scheduler claims work at all: the SQLite leader, or
every scheduler on PostgreSQL), with the scheduler's clock, lease and worker threads. So
automations keep running wherever schedules do, including the ``mlops scheduler`` daemon with
JupyterLab closed.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from .engine import execute_claim
from .spec import CRON, MANUAL
from .triggers import new_events

if TYPE_CHECKING:
    from ..scheduler.daemon import Scheduler
    from ..store.automation_events import EventClaim
    from ..store.automations import AutomationRecord

log = logging.getLogger("kernel_magics.automations")


class AutomationTicker:
    """Turn trigger events into claimed executions, once per event among all schedulers.

    Parameters
    ----------
    scheduler : Scheduler
        Gives the store, the owner name, the lease, the clock and the worker threads.
    """

    def __init__(self, scheduler: Scheduler):
        self.scheduler = scheduler
        self.repo = scheduler.store.automations
        # Events this process already stored, and each cron automation's next fire time: a
        # quiet store costs reads only, never a write per tick.
        self._stored: set[tuple[int, str]] = set()
        self._next_fire: dict[tuple[int, float], float] = {}

    def tick(self, now: float, free_workers: int) -> int:
        """Reap, notice new events, claim due ones up to ``free_workers``; return claims."""
        store = self.scheduler.store
        for end in self.repo.reap(now, store.runs):
            log.warning("automation %s: event %s crashed (%s) -> %s", end.automation.name,
                        end.event_key, end.error, end.event_status)  # fmt: skip
        for record in self.repo.list():
            if record.enabled and record.spec.trigger.kind != MANUAL:
                try:
                    self._notice(record, now)
                except Exception:  # one automation's broken source must not stop the others
                    log.exception("automation %s: could not look for events", record.name)
        claims = self.repo.claim(self.scheduler.owner, now, self.scheduler.lease, free_workers)
        for claim in claims:
            self.scheduler.start_worker(
                functools.partial(self._execute, claim),
                f"mlops-automation-{claim.event_id}-{claim.attempt}",
            )
        return len(claims)

    def _notice(self, record: AutomationRecord, now: float) -> None:
        key = (record.id, record.updated_at)
        if record.spec.trigger.kind == CRON and self._next_fire.get(key, -1.0) > now:
            return
        events = [e for e in new_events(self.scheduler.store, record, now)
                  if (record.id, e.key) not in self._stored]  # fmt: skip
        if events:
            added = self.repo.add_events(record, events, now)
            if added:
                log.info("automation %s: %d new event(s)", record.name, added)
            self._stored.update((record.id, e.key) for e in events)
        if record.spec.trigger.kind == CRON:
            from ..scheduler.cron import iter_fire_times, local_timezone_name

            trigger = record.spec.trigger
            zone = trigger.timezone or local_timezone_name()
            upcoming = next(iter_fire_times(str(trigger.target), zone, now), float("inf"))
            self._next_fire = {k: v for k, v in self._next_fire.items() if k[0] != record.id}
            self._next_fire[key] = upcoming

    def _execute(self, claim: EventClaim) -> None:
        try:
            execute_claim(self.scheduler.store, claim, self.scheduler.owner,
                          self.scheduler.clock.now)  # fmt: skip
        except Exception:  # the lease expires and the next tick (or a peer) retries it
            log.exception("automation %s: could not record the end of %s",
                          claim.automation.name, claim.event_key)  # fmt: skip

    def renew(self, now: float) -> None:
        """Extend the leases of the events this scheduler is running."""
        self.repo.renew(self.scheduler.owner, now, self.scheduler.lease)
