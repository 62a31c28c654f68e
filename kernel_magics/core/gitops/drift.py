"""The scheduler's drift check: warn when the store no longer matches ``mlops.yaml``.

A long-running scheduler (``mlops scheduler``, the one inside Jupyter server) calls
:meth:`DriftWatch.check` at start and every :data:`CHECK_EVERY_S` seconds after. It only reads
and logs: fixing drift is a person's decision (``mlops apply``), never the scheduler's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ...errors import KernelMagicsError
from ..store import Store
from .config import FILE_NAME, load_config
from .current import store_config
from .plan import Plan, plan_changes

log = logging.getLogger("kernel_magics.gitops")

#: Seconds between two drift checks of a running scheduler.
CHECK_EVERY_S = 300.0
#: Changes named in the warning (the rest are counted).
SHOWN = 5


def config_path(store: Store, path: str | Path | None = None) -> Path:
    """Where the project's ``mlops.yaml`` is: ``path``, else next to the ``.mlops`` folder.

    Without a ``.mlops`` folder (a PostgreSQL store), the working folder's ``mlops.yaml``.
    """
    if path is not None:
        return Path(path)
    home = store.location.home
    return (home.parent if home is not None else Path.cwd()) / FILE_NAME


def drift(store: Store, path: Path) -> Plan:
    """What ``mlops apply --prune`` would change; empty when the store matches the file."""
    desired = load_config(path)
    return plan_changes(desired, store_config(store, desired.root), prune=True)


def drift_message(plan: Plan, path: Path) -> str:
    """The warning: how many changes, the first few, and the command that fixes it."""
    lines = [c.describe() for c in plan.changes]
    shown = "; ".join(lines[:SHOWN]) + (f" (and {len(lines) - SHOWN} more)" if len(lines) > SHOWN
                                        else "")  # fmt: skip
    return (f"The store has drifted from {path.name} ({len(lines)} difference(s)): {shown}. "
            f"See them with `mlops apply --dry-run --prune`; `mlops apply` makes the store match "
            f"the file.")  # fmt: skip


class DriftWatch:
    """Checks for drift at most every ``every`` seconds; logs a warning when there is some.

    Parameters
    ----------
    store : Store
    path : path-like, optional
        The ``mlops.yaml`` to compare with (see :func:`config_path`). No file: no check.
    every : float
        Seconds between checks.
    """

    def __init__(self, store: Store, path: str | Path | None = None, every: float = CHECK_EVERY_S):
        self.store = store
        self.path = config_path(store, path)
        self.every = every
        self._next = -float("inf")
        self.last: Plan | None = None

    def check(self, now: float) -> str | None:
        """Compare if due; return (and log) the warning, or None when in step or not due."""
        if now < self._next:
            return None
        self._next = now + self.every
        if not self.path.is_file():
            return None
        try:
            self.last = drift(self.store, self.path)
        except KernelMagicsError as exc:
            message = f"{self.path.name} cannot be compared with the store: {exc}"
            log.warning(message)
            return message
        except Exception:  # a drift check must never stop the scheduler from scheduling
            log.exception("comparing %s with the store failed", self.path.name)
            return None
        if self.last.empty:
            return None
        message = drift_message(self.last, self.path)
        log.warning(message)
        return message
