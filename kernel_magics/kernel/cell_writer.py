"""Writes a tracked cell does off the cell's critical path: its source, history, notebook version.

Storing a blob fsyncs a file (milliseconds), and hashing a notebook file grows with its size, so
``%%mlops track`` hands these writes to one background thread and the cell does not wait for
them. They are ordered (one worker), waited for before any ``%mlops`` view reads the store
(:func:`drain`), and at interpreter exit (``concurrent.futures`` joins its workers), so a normal
exit or a kernel restart loses nothing; only a kernel killed within milliseconds of a cell's end
can lose them, like the flusher's last interval of metrics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("kernel_magics")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_pending: list[Future] = []


def submit(fn: Callable[..., Any], *args: Any) -> Future:
    """Run ``fn(*args)`` on the background writer thread."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlops-cell-writer")
        _pending[:] = [f for f in _pending if not f.done()]
        future = _executor.submit(fn, *args)
        _pending.append(future)
    return future


def drain(timeout: float = 60.0) -> list[BaseException]:
    """Wait for every submitted write; return the errors they raised (also logged)."""
    with _lock:
        pending = list(_pending)
        _pending.clear()
    errors: list[BaseException] = []
    for future in pending:
        try:
            future.result(timeout=timeout)
        except Exception as exc:  # reported, never raised into the user's cell
            log.warning("jupyter-mlops could not store part of a tracked cell: %s", exc)
            errors.append(exc)
    return errors
