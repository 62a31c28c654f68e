"""Clocks the scheduler reads and sleeps on; tests inject fast or manual ones.

Every time the scheduler stores or compares (slot times, leases, retry delays) comes from its
clock, and every wait goes through ``clock.sleep``, so a test can run a day of schedules in
seconds without patching ``time``.
"""

from __future__ import annotations

import threading
import time


class SystemClock:
    """Real time: ``time.time()`` and an interruptible sleep."""

    def now(self) -> float:
        """UTC epoch seconds."""
        return time.time()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Wait ``seconds`` (returns early when ``stop`` is set)."""
        if stop is None:
            time.sleep(max(seconds, 0.0))
        else:
            stop.wait(max(seconds, 0.0))


class ScaledClock(SystemClock):
    """Time running ``speed`` times faster than real time from ``start`` (UTC epoch).

    Several processes given the same ``start``, ``origin`` and ``speed`` agree on the time.

    Parameters
    ----------
    start : float
        The scaled time at real time ``origin``.
    speed : float
        Scaled seconds per real second.
    origin : float, optional
        The real ``time.time()`` at which the scaled clock reads ``start`` (now by default).
    """

    def __init__(self, start: float, speed: float, origin: float | None = None):
        self.start = float(start)
        self.speed = float(speed)
        self.origin = time.time() if origin is None else float(origin)

    def now(self) -> float:
        """Scaled UTC epoch seconds."""
        return self.start + (time.time() - self.origin) * self.speed

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Wait ``seconds`` of scaled time."""
        super().sleep(seconds / self.speed, stop)


class ManualClock(SystemClock):
    """A clock that only moves when told (``advance``); ``sleep`` moves it instead of waiting."""

    def __init__(self, start: float):
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current manual time."""
        with self._lock:
            return self._now

    def set(self, value: float) -> None:
        """Jump to ``value``."""
        with self._lock:
            self._now = float(value)

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds``; return the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Advance instead of waiting (yielding the thread briefly)."""
        self.advance(seconds)
        time.sleep(0)
