"""The background writer: buffered metric points, heartbeats, late environment links, reaping.

``log_metric`` only appends a tuple to a deque (no I/O, no lock on the caller's thread). A daemon
thread drains the deque every ``FLUSH_INTERVAL_S`` seconds and writes each batch in one
transaction, together with the heartbeats of the process's active runs. A process killed with
SIGKILL therefore loses at most the last flush interval of points.

The same thread persists the ``crashed`` status of runs whose process is gone (every
``REAP_INTERVAL_S`` seconds): reads only *show* such runs as crashed, so some live process of the
store has to write it, and the one that logs is the one that certainly can.

Reach the writer of a store as ``store.writer`` (one per store and process).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..environment import environment_future, environment_json
from .db import deferring_signals

if TYPE_CHECKING:
    from . import Store

log = logging.getLogger("kernel_magics")

#: Seconds between flushes (the promise is "at least once a second"; half leaves margin).
FLUSH_INTERVAL_S = 0.5
#: Seconds between heartbeats of a run that logs nothing.
HEARTBEAT_INTERVAL_S = 5.0
#: Seconds between two reaps of dead runs by a running writer (the first comes one interval
#: after the thread starts, so a short script never pays for it).
REAP_INTERVAL_S = 30.0

Point = tuple[str, str, int, float, float]


class MetricWriter:
    """Buffers metric points for one store and writes them from a background thread.

    Parameters
    ----------
    store : Store
        Where points, heartbeats and environments go.
    interval : float
        Seconds between flushes.
    """

    def __init__(self, store: Store, interval: float = FLUSH_INTERVAL_S):
        self.store = store
        self.interval = interval
        self.points: deque[Point] = deque()
        self.alive_runs: dict[str, int] = {}  # run id -> number of holders in this process
        self.needs_environment: set[str] = set()
        #: Runs deleted (``mlops runs rm --force``) while this process logged into them: their
        #: points are dropped and the user was warned once.
        self.gone_runs: set[str] = set()
        # Re-entrant: the SIGTERM handler may flush while the main thread is mid-flush.
        self._flush_lock = threading.RLock()
        self._wake = threading.Event()
        self._stopped = False
        self._last_heartbeat = 0.0
        self._last_reap = time.monotonic()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        #: Hash of this process's environment blob once it is stored and registered; new runs
        #: then reference it directly instead of waiting for a flush to link it.
        self.environment_hash: str | None = None
        #: Called with each batch of points once written (on the writer's thread); the live
        #: plot of %%mlops track follows a run this way, so log_metric itself is untouched.
        #: A listener must be quick and must not raise.
        self.listeners: list[Callable[[list[Point]], None]] = []
        with _lock:
            _writers.add(self)

    def ensure_running(self) -> None:
        """Start the background thread if it is not running (again, after a fork)."""
        if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
            if self._pid != os.getpid():
                self._flush_lock = threading.RLock()
                self._pid = os.getpid()
            self._stopped = False
            self._last_reap = time.monotonic()
            self._thread = threading.Thread(target=self._loop, name="mlops-writer", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # never let the thread die: the next tick retries
                log.warning("jupyter-mlops could not write metrics; retrying", exc_info=True)
            if time.monotonic() - self._last_reap >= REAP_INTERVAL_S and not self._stopped:
                self._last_reap = time.monotonic()
                try:
                    self.store.runs.reap()
                except Exception:  # locked or disconnected: the next interval retries
                    log.debug("jupyter-mlops could not reap dead runs", exc_info=True)

    def add_run(self, run_id: str, environment: bool) -> None:
        """Keep ``run_id``'s heartbeat going (and link the environment when it is ready)."""
        self.alive_runs[run_id] = self.alive_runs.get(run_id, 0) + 1
        if environment:
            self.needs_environment.add(run_id)
            environment_future()
        self.ensure_running()

    def remove_run(self, run_id: str) -> None:
        """Stop heart-beating ``run_id`` once nobody in this process holds it."""
        count = self.alive_runs.get(run_id, 0) - 1
        if count > 0:
            self.alive_runs[run_id] = count
        else:
            self.alive_runs.pop(run_id, None)

    def forget_run(self, run_id: str) -> None:
        """Stop logging into a run that was deleted from the store, with one warning.

        Later points, heartbeats and environment links of the run are dropped silently; the
        tracking API's other writes (params, tags, the final status) check :meth:`was_deleted`.
        """
        if run_id in self.gone_runs:
            return
        self.gone_runs.add(run_id)
        self.alive_runs.pop(run_id, None)
        self.needs_environment.discard(run_id)
        log.warning(
            "jupyter-mlops: run %s was deleted from the store while this process was logging "
            "into it; nothing more is recorded for it (its metrics, params, tags and final "
            "status are dropped). Start a new run to keep tracking.",
            run_id[:8],
        )

    def was_deleted(self, run_id: str) -> bool:
        """Whether ``run_id`` was deleted while this process logged into it."""
        return run_id in self.gone_runs

    def flush(self, wait_environment: float = 0.0) -> int:
        """Write everything buffered now, in one transaction; return the number of points.

        Parameters
        ----------
        wait_environment : float
            Seconds to wait for the environment capture before giving up on linking it.
        """
        with deferring_signals(), self._flush_lock:
            count = len(self.points)
            batch = [self.points.popleft() for _ in range(count)]
            if self.gone_runs:
                batch = [p for p in batch if p[0] not in self.gone_runs]
            now = time.time()
            heartbeat = now - self._last_heartbeat >= HEARTBEAT_INTERVAL_S and self.alive_runs
            env_hash = self._environment_blob(wait_environment) if self.needs_environment else None
            if not batch and not heartbeat and env_hash is None:
                return 0
            try:
                self._write(batch, heartbeat, env_hash, now)
            except Exception as exc:
                from sqlalchemy.exc import OperationalError

                if isinstance(exc, OperationalError):  # locked or disconnected: retry it all
                    self.points.extendleft(reversed(batch))
                    raise
                batch = self._write_without_failures(batch, heartbeat, env_hash, now)
            if heartbeat:
                self._last_heartbeat = now
            if env_hash is not None:
                self.environment_hash = env_hash.hash
            for listener in list(self.listeners) if batch else ():
                try:
                    listener(batch)
                except Exception:  # a view must never stop metrics from being written
                    log.warning("jupyter-mlops metric listener failed", exc_info=True)
            return len(batch)

    def _write(self, batch, heartbeat, env_hash, now: float) -> None:
        with self.store.db.write() as conn:
            self.store.runs.write_metrics(conn, batch)
            if heartbeat:
                self.store.runs.heartbeat(conn, list(self.alive_runs), now)
            if env_hash is not None:
                ids = list(self.needs_environment)
                self.store.runs.link_environment(conn, ids, env_hash)
                self.needs_environment.difference_update(ids)

    def _write_without_failures(self, batch, heartbeat, env_hash, now: float) -> list[Point]:
        # Runs deleted while this process logged into them: one warning each, then silence.
        existing = self.store.runs.existing({p[0] for p in batch})
        for run_id in {p[0] for p in batch} - existing:
            self.forget_run(run_id)
        batch = [p for p in batch if p[0] in existing]
        try:
            self._write(batch, heartbeat, env_hash, now)
            return batch
        except Exception:  # noqa: S110 - a value the database refuses: isolated below
            pass
        by_run: dict[str, list[Point]] = {}
        for point in batch:
            by_run.setdefault(point[0], []).append(point)
        written = []
        for run_id, points in by_run.items():
            try:
                self._write(points, False, None, now)
                written += points
            except Exception as exc:
                log.warning(
                    "jupyter-mlops dropped %d metric points of run %s that cannot be stored: %s",
                    len(points), run_id[:8], exc,
                )  # fmt: skip
                self.alive_runs.pop(run_id, None)
                self.needs_environment.discard(run_id)
        try:
            self._write([], heartbeat, env_hash, now)
        except Exception:
            log.warning("jupyter-mlops could not write heartbeats", exc_info=True)
        return written

    def _environment_blob(self, wait: float):
        future = environment_future()
        if not future.done() and wait > 0:
            try:
                future.result(timeout=wait)
            except Exception:  # noqa: S110 - reported below through future.exception()
                pass
        if not future.done():
            return None
        if future.exception() is not None:
            self.needs_environment.clear()
            log.warning("jupyter-mlops could not capture the environment: %s", future.exception())
            return None
        return self.store.blobs.put_bytes(environment_json(future.result()))

    def wake(self) -> None:
        """Ask the thread to flush now instead of at the next tick."""
        self._wake.set()

    def close(self) -> None:
        """Final flush (waiting briefly for the environment) and stop the thread."""
        self._stopped = True
        self._wake.set()
        try:
            self.flush(wait_environment=5.0)
        except Exception:
            log.warning("jupyter-mlops could not write the last metrics", exc_info=True)


_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()
_lock = threading.Lock()


def flush_all(wait_environment: float = 0.0) -> None:
    """Flush every writer of this process now (notebook runs call it before a cell ends)."""
    for writer in list(_writers):
        writer.flush(wait_environment=wait_environment)


@atexit.register
def close_all() -> None:
    """Final flush of every writer (at exit, and when stores are closed)."""
    for writer in list(_writers):
        writer.close()


def _reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    for writer in _writers:
        # The parent's threads are gone: locks they held would never be released.
        writer._flush_lock = threading.RLock()
        writer._wake = threading.Event()
        writer._pid = os.getpid()
        writer.points.clear()
        writer.alive_runs.clear()
        writer.needs_environment.clear()
        writer._thread = None


os.register_at_fork(after_in_child=_reset_after_fork)
