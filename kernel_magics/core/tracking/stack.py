"""The active-run stack: which runs this process logs into, innermost last.

``mlops.log_metric`` and friends log into the top of the stack; ``nested=True`` pushes a child.
A forked child starts with an empty stack: it does not own its parent's runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .run import Run

#: Names the run a process attaches to instead of creating one (``mlops run`` sets it).
RUN_ID_ENV = "MLOPS_RUN_ID"

#: The active runs of this process, innermost last. Mutated in place, never rebound, so
#: ``tracking._active`` always names the live list.
_active: list[Run] = []


def top() -> Run | None:
    """The innermost active run, or None."""
    return _active[-1] if _active else None


def push(run: Run) -> None:
    """Make ``run`` the innermost active run."""
    _active.append(run)


def discard(run: Run) -> None:
    """Take ``run`` off the stack wherever it is (an inner run may end after its parent)."""
    if run in _active:
        _active.remove(run)


def _reset_after_fork() -> None:
    _active.clear()


os.register_at_fork(after_in_child=_reset_after_fork)
