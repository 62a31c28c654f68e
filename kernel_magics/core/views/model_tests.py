"""Model test reports as tables (``mlops test``, ``mlops test --last``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .formatting import short
from .table import Column, Table, table

if TYPE_CHECKING:
    from ..model_tests.report import ModelTestReport


def model_test_table(report: ModelTestReport) -> Table:
    """One row per check: what, kind, pass / FAIL / skip, measured, expected, why."""
    counts = report.counts()
    verdict = "passed" if report.passed else "FAILED"
    return table(
        [Column("Check", priority=100), Column("Kind", priority=60),
         Column("Result", "status", 95), Column("Measured", priority=80),
         Column("Expected", priority=70), Column("Detail", priority=40)],
        [[c.name, c.kind, c.outcome, c.measured, c.expected, short(c.detail, 160)]
         for c in report.checks],
        f"Model tests {verdict}: {report.ref} ({counts['pass']} passed, {counts['FAIL']} failed, "
        f"{counts['skip']} skipped)",
        "" if report.checks else "No checks ran.",
    )  # fmt: skip
