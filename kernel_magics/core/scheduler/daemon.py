"""The scheduler loop: a pair ``BaseScheduler`` (the contract) / ``Scheduler`` (the default).

Each :meth:`Scheduler.tick`:

1. on SQLite, takes or renews the ``scheduler`` leader lease; without it the scheduler is a
   standby and does nothing else (on PostgreSQL every scheduler works, sharing slots with
   ``FOR UPDATE SKIP LOCKED``);
2. renews the leases of the slots it is running;
3. ends ``crashed`` the running slots whose lease expired (their scheduler died) and retries
   them per policy; every :data:`RUN_REAP_INTERVAL_S` it also records ``crashed`` the runs of
   the store whose process is gone (``store.runs.reap()``: reads only *show* them crashed);
4. creates the slots of every fire time that has come (catch-up policy for missed ones);
5. claims due slots up to ``max_workers`` and runs each on its own thread through the
   executor; the end of an attempt is written only while this scheduler still owns the slot.
6. notices the automations' trigger events and claims and runs them the same way
   (:class:`~kernel_magics.core.automations.ticker.AutomationTicker`: one row per event,
   claimed under a lease, so an event runs once among all schedulers).

Before all that, the holder of the ``alerts`` lease evaluates the alert rules once per minute
(:func:`kernel_magics.core.monitoring.alerts.evaluate_due`; each rule is also claimed per
minute, so a lease changing hands never evaluates a minute twice).

Time comes from an injectable clock (see :mod:`.clock`), the work from an injectable executor
(see :mod:`.executors`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import ValidationError
from ..names import FAILED
from . import notify
from .catchup import materialize
from .clock import SystemClock
from .cron import iter_fire_times
from .executors import BaseSlotExecutor, Outcome, RunnerSlotExecutor, SlotJob

if TYPE_CHECKING:
    from ..config import StoreLocation
    from ..store import Store
    from ..store.slots import Claim, SlotEnd

log = logging.getLogger("kernel_magics.scheduler")
LEADER_LEASE = "scheduler"
#: The lease whose holder evaluates alert rules (one evaluator among all schedulers).
ALERTS_LEASE = "alerts"
HEARTBEAT_PREFIX = "heartbeat/"
#: Real seconds between two ``store.runs.reap()`` calls of a working scheduler.
RUN_REAP_INTERVAL_S = 30.0


@dataclass(frozen=True)
class TickReport:
    """What one tick did."""

    role: str  # leader (SQLite), standby (SQLite), shared (PostgreSQL)
    created: int = 0
    claimed: int = 0
    crashed: int = 0


class BaseScheduler(ABC):
    """The contract of a scheduler. Implement :meth:`tick`; keep :meth:`run` as is.

    ``tick`` does one pass over the store and must return quickly (it starts work, it does not
    wait for it). ``run`` calls it every ``poll_interval`` seconds of ``clock`` time until the
    stop event is set, then :meth:`close`.
    """

    poll_interval: float = 5.0

    def __init__(self, clock=None):
        self.clock = clock or SystemClock()

    @abstractmethod
    def tick(self) -> TickReport:
        """One pass: leases, crash detection, new slots, claims."""

    def close(self, wait: float = 0.0) -> None:  # noqa: B027 - optional hook; nothing to release by default
        """Stop claiming; wait up to ``wait`` seconds for running attempts."""

    def run(self, stop: threading.Event, drain: float = 0.0) -> None:
        """Tick until ``stop`` is set (errors are logged and the loop goes on).

        Then :meth:`close`, waiting up to ``drain`` seconds for running attempts; attempts
        still running after that are taken over by a peer when their lease expires.
        """
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:  # a database hiccup must not kill the daemon
                    log.exception("scheduler tick failed; retrying in %.1f s", self.poll_interval)
                self.clock.sleep(self.poll_interval, stop)
        finally:
            self.close(wait=drain)


class Scheduler(BaseScheduler):
    """Run every schedule of a store, exactly once per slot, with any number of peers.

    Parameters
    ----------
    store : Store
        The store whose schedules are run.
    executor : BaseSlotExecutor, optional
        Runs one attempt (:class:`RunnerSlotExecutor`: papermill, by default).
    clock : object, optional
        ``now()`` and ``sleep(seconds, stop)``; real time by default.
    poll_interval : float
        Seconds between ticks (default 5).
    lease : float
        Seconds a slot (and, on SQLite, the leader role) stays owned without renewal; a dead
        scheduler's work is taken over after at most ``lease + poll_interval`` (default 60).
    grace : float
        Seconds after a fire time during which its slot still counts as on time; older
        fire times follow the catch-up policy (default 300).
    max_workers : int
        Attempts this scheduler runs at the same time (default 4).
    owner : str, optional
        This scheduler's identity in leases (``host:pid:random`` by default).
    alerts : bool
        Evaluate the store's alert rules once a minute (default True).
    alert_summarize : callable, optional
        Reads a rule's monitoring windows (:func:`~kernel_magics.core.monitoring.windows.summarize`
        by default; tests inject theirs).
    """

    def __init__(self, store: Store, *, executor: BaseSlotExecutor | None = None, clock=None,
                 poll_interval: float = 5.0, lease: float = 60.0, grace: float = 300.0,
                 max_workers: int = 4, owner: str | None = None, alerts: bool = True,
                 alert_summarize=None):  # fmt: skip
        super().__init__(clock)
        if poll_interval <= 0 or max_workers < 1 or grace < 0:
            raise ValidationError(
                "The poll interval must be > 0 s, max workers >= 1 and the grace >= 0 s "
                f"(got {poll_interval:g}, {max_workers}, {grace:g})."
            )
        if lease <= poll_interval:
            raise ValidationError(
                f"The lease ({lease:g} s) must be longer than the poll interval "
                f"({poll_interval:g} s), or a live scheduler would lose its slots."
            )
        self.store = store
        self.executor = executor or RunnerSlotExecutor()
        self.poll_interval, self.lease, self.grace = poll_interval, lease, grace
        self.max_workers = max_workers
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.schedules = store.schedules
        self.slots = store.slots
        self.leases = store.leases
        self.role = "starting"
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._next_due: dict[tuple[int, float], float] = {}
        self._ticks = 0
        self._runs_reaped_at = -RUN_REAP_INTERVAL_S
        self.alerts, self.alert_summarize = alerts, alert_summarize
        self._alerts_minute = -1.0
        self._alerts_tried_at = -float("inf")
        self._alerts_held_until = -1.0
        from ..automations.ticker import AutomationTicker

        self.automations = AutomationTicker(self)
        from ..gitops.drift import DriftWatch

        self.drift = DriftWatch(store)  # warns when the store drifted from mlops.yaml

    # -- one pass -------------------------------------------------------------------------------
    def tick(self) -> TickReport:
        """Leases, crash detection, new slots and claims (see the module docstring)."""
        now = self.clock.now()
        # On SQLite the leader lease is taken before the heartbeat is written, so whoever sees
        # this scheduler alive also sees its role: never a "standby" that is about to lead
        # (the first tick's alert evaluation can take a second).
        leader = self.store.db.is_sqlite and self.leases.acquire(
            LEADER_LEASE, self.owner, now, self.lease
        )
        # Every scheduler says it is alive (``mlops schedule ls`` shows who runs the store);
        # now and then the heartbeats of schedulers dead for a day are deleted.
        self.leases.acquire(HEARTBEAT_PREFIX + self.owner, self.owner, now, self.lease)
        self._ticks += 1
        if self._ticks % 500 == 1:
            self.leases.prune(HEARTBEAT_PREFIX, now - 86400)
        self._evaluate_alerts(now)
        if self.store.db.is_sqlite:
            if not leader:
                self._set_role("standby")
                self._renew(now)
                return TickReport("standby")
            self._set_role("leader")
        else:
            self._set_role("shared")
        self._renew(now)
        self.drift.check(now)  # at start, then every few minutes: a warning, never a change
        crashed = self.slots.reap(now, self.store.runs)
        self._reap_runs()
        for end in crashed:
            log.warning("schedule %s: slot %s crashed (%s) -> %s", end.schedule.name,
                        end.slot_time, end.error, end.slot_status)  # fmt: skip
            self._notify(end)
        if self._closed:
            return TickReport(self.role, crashed=len(crashed))
        created = 0
        for schedule in self.schedules.list():
            if not schedule.paused:
                created += self._materialize(schedule, now)
        claims = self.slots.claim(self.owner, now, self.lease, self._free_workers())
        for claim in claims:
            self._start(claim)
        self.automations.tick(now, self._free_workers())  # trigger events, exactly once each
        return TickReport(self.role, created, len(claims), len(crashed))

    def _materialize(self, schedule, now: float) -> int:
        # Until its next fire time a schedule has nothing new: skip the queries (the key
        # includes updated_at, so pause/resume or an edit invalidates the entry).
        key = (schedule.id, schedule.updated_at)
        if self._next_due.get(key, -1.0) > now:
            return 0
        created = materialize(self.slots, schedule, now, self.grace)
        upcoming = next(iter_fire_times(schedule.cron, schedule.timezone, now), float("inf"))
        self._next_due = {k: v for k, v in self._next_due.items() if k[0] != schedule.id}
        self._next_due[key] = upcoming
        return created

    def _evaluate_alerts(self, now: float) -> None:
        # The lease is written only now and then, not every tick: its holder renews it at
        # each new minute and every lease/3 seconds (so it never lapses while the holder
        # lives), a standby tries every lease/3 seconds (and takes over within that long once
        # the holder's lease expires). Each minute is evaluated at most once per scheduler.
        if not self.alerts or self._closed:
            return
        from ..monitoring.alerts import EVALUATION_INTERVAL_S, evaluate_due

        minute = now // EVALUATION_INTERVAL_S * EVALUATION_INTERVAL_S
        due = minute > self._alerts_minute
        if self._alerts_held_until > now:
            if not due and now < self._alerts_tried_at + self.lease / 3:
                return
        elif now < self._alerts_tried_at + self.lease / 3:
            return
        self._alerts_tried_at = now
        if not self.leases.acquire(ALERTS_LEASE, self.owner, now, self.lease):
            self._alerts_held_until = -1.0
            return
        self._alerts_held_until = now + self.lease
        if not due:
            return
        self._alerts_minute = minute
        try:
            for t in evaluate_due(self.store, now, self.alert_summarize):
                if t.change != "none":
                    log.info("alert %s: %s (%s)", t.rule, t.change, t.verdict.state)
        except Exception:  # a broken rule or store hiccup must not stop the schedules
            log.exception("alert evaluation failed; retrying next minute")
        try:  # guards on deploys and promotions, judged by the same leader each minute
            from ..serving.guards import evaluate_guards

            evaluate_guards(self.store, now)
        except Exception:
            log.exception("guard evaluation failed; retrying next minute")

    def _reap_runs(self) -> None:
        # Real time, not the injected clock: liveness of runs is judged on the wall clock.
        if time.monotonic() - self._runs_reaped_at >= RUN_REAP_INTERVAL_S:
            self._runs_reaped_at = time.monotonic()
            self.store.runs.reap()

    def _set_role(self, role: str) -> None:
        if role != self.role:
            log.info("scheduler %s is now %s", self.owner, role)
            self.role = role

    def _renew(self, now: float) -> None:
        with self._lock:
            busy = bool(self._threads)
        if busy:
            self.slots.renew(self.owner, now, self.lease)
            self.automations.renew(now)

    def _free_workers(self) -> int:
        with self._lock:
            self._threads = {t for t in self._threads if t.is_alive()}
            return self.max_workers - len(self._threads)

    # -- running attempts -------------------------------------------------------------------
    def _start(self, claim: Claim) -> None:
        self.start_worker(lambda: self._execute(claim),
                          f"mlops-slot-{claim.slot_id}-{claim.attempt}")  # fmt: skip

    def start_worker(self, work: Callable[[], None], name: str) -> None:
        """Run ``work`` on a worker thread that counts towards ``max_workers`` and ``close``."""
        thread = threading.Thread(target=work, daemon=True, name=name)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def execute_claim(self, claim: Claim) -> SlotEnd | None:
        """Run one claimed attempt here and now and record its end (``run-now`` uses it)."""
        job = SlotJob(claim.schedule, claim.slot_id, claim.slot_time, claim.attempt,
                      claim.trigger, self.store)  # fmt: skip
        try:
            outcome = self.executor.execute(job)
        except ValidationError as exc:
            outcome = Outcome(FAILED, error=str(exc), retry=False)
        except Exception as exc:  # the executor's bug or environment: a failed attempt
            log.exception("schedule %s: executor raised", claim.schedule.name)
            outcome = Outcome(FAILED, error=f"{type(exc).__name__}: {exc}")
        end = self.slots.complete(claim, self.owner, outcome.status, self.clock.now(),
                                  run_id=outcome.run_id, error=outcome.error,
                                  retry=outcome.retry)  # fmt: skip
        if end is None:
            log.warning("schedule %s: lost the lease of slot %s before it ended",
                        claim.schedule.name, claim.slot_id)  # fmt: skip
            return None
        log.info("schedule %s: slot %s attempt %d %s -> %s", claim.schedule.name,
                 job.slot_label, claim.attempt, outcome.status, end.slot_status)  # fmt: skip
        self._notify(end)
        return end

    def _execute(self, claim: Claim) -> None:
        try:
            self.execute_claim(claim)
        except Exception:  # the lease expires and a peer (or our next tick) retries it
            log.exception("schedule %s: could not record the end of slot %s",
                          claim.schedule.name, claim.slot_id)  # fmt: skip

    def _notify(self, end: SlotEnd) -> None:
        if end.gave_up:
            notify.send(end)

    # -- shutdown ---------------------------------------------------------------------------
    def close(self, wait: float = 0.0) -> None:
        """Stop claiming, wait up to ``wait`` s for running attempts, hand the lease over."""
        self._closed = True
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + wait
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        try:
            self.leases.drop(HEARTBEAT_PREFIX + self.owner, self.owner)
            self.leases.release(ALERTS_LEASE, self.owner)
            if self.store.db.is_sqlite and not any(t.is_alive() for t in threads):
                self.leases.release(LEADER_LEASE, self.owner)
        except Exception:  # the store may already be closed
            log.debug("could not release the scheduler leases", exc_info=True)

    def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until no attempt started by this scheduler is running (tests, run-now)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


def running_schedulers(store: Store, now: float | None = None) -> list[dict]:
    """List the schedulers alive on a store: ``[{"owner", "role", "expires_at"}]``.

    On SQLite the holder of the leader lease is ``leader`` and the others ``standby``; on
    PostgreSQL every scheduler works (``shared``).
    """
    now = time.time() if now is None else now
    alive = store.leases.live(HEARTBEAT_PREFIX, now)
    leader = None
    if store.db.is_sqlite:
        held = store.leases.holder(LEADER_LEASE)
        leader = held[0] if held and held[1] >= now else None
    out = []
    for owner, expires in alive:
        role = "shared" if not store.db.is_sqlite else ("leader" if owner == leader else "standby")
        out.append({"owner": owner, "role": role, "expires_at": expires})
    return out


def start_background_scheduler(
    location: StoreLocation | None = None, stop: threading.Event | None = None, **options
) -> tuple[threading.Thread, threading.Event]:
    """Run a :class:`Scheduler` on a daemon thread (the Jupyter server extension uses this).

    Parameters
    ----------
    location : StoreLocation, optional
        The store; the resolved default when omitted.
    stop : threading.Event, optional
        Set it to stop the scheduler; a new event when omitted.
    **options
        Passed to :class:`Scheduler` (``poll_interval``, ``lease``, ``max_workers``...).

    Returns
    -------
    (threading.Thread, threading.Event)
        The started thread and the event that stops it.
    """
    from ..store import open_store

    stop = stop or threading.Event()

    def main() -> None:
        try:
            scheduler = Scheduler(open_store(location), **options)
        except Exception:
            log.exception("the background scheduler could not start")
            return
        scheduler.run(stop)

    thread = threading.Thread(target=main, name="mlops-scheduler", daemon=True)
    thread.start()
    return thread, stop
