"""The background writer: buffered metric points, heartbeats and late environment links.

``log_metric`` only appends a tuple to a deque (no I/O, no lock on the caller's thread). A daemon
thread drains the deque every ``FLUSH_INTERVAL_S`` seconds and writes each batch in one
transaction, together with the heartbeats of the process's active runs. A process killed with
SIGKILL therefore loses at most the last flush interval of points.
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

from .environment import environment_future, environment_json
from .store.db import deferring_signals

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger("kernel_magics")

#: Seconds between flushes (the promise is "at least once a second"; half leaves margin).
FLUSH_INTERVAL_S = 0.5
#: Seconds between heartbeats of a run that logs nothing.
HEARTBEAT_INTERVAL_S = 5.0


class Flusher:
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
        self.points: deque[tuple[str, str, int, float, float]] = deque()
        self.alive_runs: dict[str, int] = {}  # run id -> number of holders in this process
        self.needs_environment: set[str] = set()
        # Re-entrant: the SIGTERM handler may flush while the main thread is mid-flush.
        self._flush_lock = threading.RLock()
        self._wake = threading.Event()
        self._stopped = False
        self._last_heartbeat = 0.0
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        #: Hash of this process's environment blob once it is stored and registered; new runs
        #: then reference it directly instead of waiting for a flush to link it.
        self.environment_hash: str | None = None
        #: Called with each batch of points once written (on the flusher's thread); the live
        #: plot of %%mlops track follows a run this way, so log_metric itself is untouched.
        #: A listener must be quick and must not raise.
        self.listeners: list[Callable[[list[tuple[str, str, int, float, float]]], None]] = []

    def ensure_running(self) -> None:
        """Start the background thread if it is not running (again, after a fork)."""
        if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
            if self._pid != os.getpid():
                self._flush_lock = threading.RLock()
                self._pid = os.getpid()
            self._stopped = False
            self._thread = threading.Thread(target=self._loop, name="mlops-flusher", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # never let the thread die: the next tick retries
                log.warning("jupyter-mlops could not write metrics; retrying", exc_info=True)

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
                # Something in the batch can never be stored (a run deleted while it logged,
                # a value the database refuses): store run by run, drop only what fails.
                batch = self._write_run_by_run(batch, heartbeat, env_hash, now)
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
                self._link_environment(conn, env_hash)

    def _write_run_by_run(self, batch, heartbeat, env_hash, now: float) -> list:
        by_run: dict[str, list] = {}
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

    def _link_environment(self, conn, ref) -> None:
        from sqlalchemy import update

        from .store.artifacts import register_blob
        from .store.schema import runs

        register_blob(conn, ref)
        ids = list(self.needs_environment)
        conn.execute(update(runs).where(runs.c.id.in_(ids)).values(environment_hash=ref.hash))
        self.needs_environment.difference_update(ids)

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


_flushers: weakref.WeakSet[Flusher] = weakref.WeakSet()
_lock = threading.Lock()


def flusher_for(store: Store) -> Flusher:
    """The process's flusher for ``store`` (kept on the store object itself)."""
    flusher = store.__dict__.get("_km_flusher")
    if flusher is None:
        with _lock:
            flusher = store.__dict__.get("_km_flusher")
            if flusher is None:
                flusher = store.__dict__["_km_flusher"] = Flusher(store)
                _flushers.add(flusher)
    return flusher


def flush_all(wait_environment: float = 0.0) -> None:
    """Flush every flusher of this process now."""
    for flusher in list(_flushers):
        flusher.flush(wait_environment=wait_environment)


@atexit.register
def close_all() -> None:
    """Final flush of every flusher (at exit, and when stores are closed)."""
    for flusher in list(_flushers):
        flusher.close()


def _reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    for flusher in _flushers:
        # The parent's threads are gone: locks they held would never be released.
        flusher._flush_lock = threading.RLock()
        flusher._wake = threading.Event()
        flusher._pid = os.getpid()
        flusher.points.clear()
        flusher.alive_runs.clear()
        flusher.needs_environment.clear()
        flusher._thread = None


os.register_at_fork(after_in_child=_reset_after_fork)
