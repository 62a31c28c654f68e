"""Helpers for scheduler tests: tiny notebooks, recording executors, times."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import nbformat

from kernel_magics.core.scheduler.executors import BaseSlotExecutor, Outcome


def write_notebook(
    path, parameters_source: str = "alpha = 0.5\nlabel = 'x'\n", body: str = "print(alpha)\n"
):
    """A notebook with a ``parameters`` cell and one code cell."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters_source)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))
    return path


def at(text: str, tz: str = "UTC") -> float:
    """UTC epoch of an ISO local time in ``tz``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def local(ts: float, tz: str) -> str:
    """ISO local time (with offset) of an epoch in ``tz``."""
    return dt.datetime.fromtimestamp(ts, ZoneInfo(tz)).isoformat()


class RecordingExecutor(BaseSlotExecutor):
    """Records every job; answers with ``statuses`` in turn (then ``finished``)."""

    def __init__(self, statuses=(), error="boom", retry=True):
        self.jobs = []
        self.statuses = list(statuses)
        self.error = error
        self.retry = retry
        self.lock = threading.Lock()

    def execute(self, job):
        with self.lock:
            self.jobs.append(job)
            status = self.statuses.pop(0) if self.statuses else "finished"
        if status == "raise":
            raise RuntimeError("executor exploded")
        return Outcome(status, error=None if status == "finished" else self.error, retry=self.retry)

    @property
    def fired(self):
        return [(j.schedule.name, j.slot_time, j.attempt) for j in self.jobs]
