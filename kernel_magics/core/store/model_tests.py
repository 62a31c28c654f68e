"""Model test results per model version: the ``store.model_tests`` repository.

``mlops test`` records each report here; ``mlops promote --require-tests`` and model cards read
the newest one of a version. A report is kept whole as JSON (it is always read whole), with the
verdict and failure count as columns so the newest verdict needs no decoding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from .db import Database
from .schema_model_tests import model_test_runs


@dataclass(frozen=True)
class ModelTestRun:
    """One stored model test report.

    Attributes
    ----------
    id, model_version_id : int
        The report and the tested version's row id.
    passed : bool
        Whether every check passed.
    failures : int
        How many checks failed.
    started_at, duration_s : float
        UTC epoch seconds, and how long the test took.
    report : dict
        ``ModelTestReport.to_dict()`` (rebuild it with ``ModelTestReport.from_dict``).
    """

    id: int
    model_version_id: int
    passed: bool
    failures: int
    started_at: float
    duration_s: float
    report: dict[str, Any]


def _run(row: Any) -> ModelTestRun:
    report = json.loads(row.report)
    report["id"] = row.id
    return ModelTestRun(row.id, row.model_version_id, bool(row.passed), row.failures,
                        row.started_at, row.duration_s, report)  # fmt: skip


class ModelTestRepository:
    """Reads and writes of ``model_test_runs``."""

    def __init__(self, db: Database):
        self.db = db

    def record(self, model_version_id: int, report: dict[str, Any]) -> int:
        """Store a report (``ModelTestReport.to_dict()``) for a version; return its id."""
        row = {
            "model_version_id": model_version_id,
            "passed": int(bool(report["passed"])),
            "failures": int(report["counts"]["FAIL"]),
            "started_at": float(report["started_at"]),
            "duration_s": float(report["duration_s"]),
            "report": json.dumps(report, default=str),
        }
        with self.db.write() as conn:
            key = conn.execute(model_test_runs.insert().values(row)).inserted_primary_key
            assert key is not None
            return int(key[0])

    def last(self, model_version_id: int) -> ModelTestRun | None:
        """The newest report of a version (None when it was never tested)."""
        runs = self.history(model_version_id, limit=1)
        return runs[0] if runs else None

    def history(self, model_version_id: int, limit: int = 20) -> list[ModelTestRun]:
        """A version's reports, newest first."""
        query = (
            select(model_test_runs)
            .where(model_test_runs.c.model_version_id == model_version_id)
            .order_by(model_test_runs.c.id.desc())  # ids grow with time, one per test
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_run(r) for r in conn.execute(query)]

    def last_of(self, model_version_ids: Iterable[int]) -> dict[int, ModelTestRun]:
        """The newest report of each of these versions (versions never tested are left out)."""
        ids = list(model_version_ids)
        if not ids:
            return {}
        newest = (
            select(func.max(model_test_runs.c.id).label("id"))
            .where(model_test_runs.c.model_version_id.in_(ids))
            .group_by(model_test_runs.c.model_version_id)
        ).subquery()
        query = select(model_test_runs).join(newest, model_test_runs.c.id == newest.c.id)
        with self.db.read() as conn:
            return {r.model_version_id: _run(r) for r in conn.execute(query)}
