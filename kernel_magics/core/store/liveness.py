"""Whether a run's process is still alive: the one rule every read and the reaper share.

A ``running`` run whose process is gone is shown as ``crashed`` by every read
(:func:`show_crashed`), and :meth:`~kernel_magics.core.store.runs.RunRepository.reap` persists
exactly the same verdict.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from ..names import CRASHED

#: A run on another host (or whose pid we cannot check) is crashed after this much silence.
STALE_AFTER_S = 120.0
#: The reason a crashed run carries (shown by reads, stored by the reaper).
CRASHED_ERROR = (
    "The process running this run stopped without ending it "
    "(killed, out of memory, or the machine went down)."
)

HOSTNAME = socket.gethostname()


def show_crashed(row: dict[str, Any], stopped_at: float) -> None:
    """Turn a ``running`` row whose process is gone into what a reap would store.

    Parameters
    ----------
    row : dict
        A run row (from any read); its ``status``, ``end_time`` and, when present, ``error``
        are replaced.
    stopped_at : float
        When the run stopped living (its last heartbeat), shown as its end time.
    """
    row["status"] = CRASHED
    row["end_time"] = stopped_at
    if "error" in row:
        row["error"] = CRASHED_ERROR
    if "duration" in row:
        row["duration"] = stopped_at - row["start_time"]


def process_gone(row: Any, now: float, stale_after: float = STALE_AFTER_S) -> bool:
    """Whether the process of a ``running`` run is gone: the one liveness rule.

    A run on this host is dead when its pid no longer exists, is a zombie, or now belongs to a
    process started after the run (pid reuse). A run on another host (or whose process we may
    not inspect) is dead when its heartbeat is older than ``stale_after`` seconds.

    Parameters
    ----------
    row : object
        Has ``pid``, ``hostname``, ``heartbeat_at`` and ``start_time`` (a row or a record).
    now : float
        UTC epoch seconds.
    stale_after : float
        Seconds of heartbeat silence that mean dead.
    """
    if not isinstance(row, Mapping):
        row = row._mapping if hasattr(row, "_mapping") else vars(row)
    last_sign = row["heartbeat_at"] or row["start_time"]
    if row["hostname"] == HOSTNAME and row["pid"]:
        import psutil

        try:
            process = psutil.Process(row["pid"])
            if process.status() == psutil.STATUS_ZOMBIE:  # exited, not yet waited for
                return True
            started = process.create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return True
        except psutil.AccessDenied:
            return (now - last_sign) > stale_after
        # A pid reused by a process that started after the run is not the run's process.
        return started > row["start_time"] + 1.0
    return (now - last_sign) > stale_after


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists on this machine (zombies count as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
