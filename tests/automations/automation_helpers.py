"""Helpers for automation tests: notebooks, a notification command that writes a file, and
schedulers ticked by hand."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import nbformat


def write_notebook(path: Path, parameters: str, body: str) -> Path:
    """A notebook with a ``parameters`` cell and one code cell."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nbformat.write(nb, str(path))
    return path


class Inbox:
    """A ``notify`` command that appends each JSON message it gets to a file."""

    def __init__(self, path: Path):
        self.path = path
        script = f"import sys; open({str(path)!r}, 'a').write(sys.stdin.read() + '\\n')"
        self.command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"

    @property
    def messages(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def step(self, message: str = "") -> dict:
        """The notify step that writes here."""
        return {"notify": {"command": self.command, **({"message": message} if message else {})}}


def make_scheduler(store, clock, owner: str = "sched-a", **options):
    """A scheduler on ``store`` ticked by hand (no alert evaluation unless asked)."""
    from kernel_magics.core.scheduler.daemon import Scheduler

    options.setdefault("alerts", False)
    return Scheduler(store, clock=clock, poll_interval=1.0, lease=30.0, owner=owner, **options)


def tick(scheduler) -> None:
    """One tick, then wait for what it started."""
    scheduler.tick()
    scheduler.wait_idle(timeout=300)
