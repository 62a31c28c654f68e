"""What an import or export reports while it works: counts per task, no rendering.

The CLI draws these as a rich progress bar; the Python API passes :class:`NullProgress`.
"""

from __future__ import annotations

from typing import Protocol

#: The tasks an import advances, in the order a progress bar shows them.
RUNS = "runs"
METRIC_POINTS = "metric points"
ARTIFACT_BYTES = "artifact bytes"
TASKS = (RUNS, METRIC_POINTS, ARTIFACT_BYTES)


class Progress(Protocol):
    """Receives totals as they become known and the work done against them."""

    def add_total(self, task: str, amount: int) -> None:
        """More work of ``task`` was found (totals grow: histories are read run by run)."""

    def advance(self, task: str, amount: int) -> None:
        """``amount`` units of ``task`` were written."""


class NullProgress:
    """A progress sink that ignores everything (the Python API's default)."""

    def add_total(self, task: str, amount: int) -> None:
        """Ignore a total."""

    def advance(self, task: str, amount: int) -> None:
        """Ignore work done."""
