"""The model servers' prediction log: sampled requests, written in batches.

The sampling and the buffering live in :mod:`kernel_magics.core.serving.predlog`; this module
only writes a batch of ready rows and reads a deployment's newest entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from .db import Database
from .schema import prediction_log


class PredictionRepository:
    """Write and read ``prediction_log`` entries."""

    def __init__(self, db: Database):
        self.db = db

    def write(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert entries (dicts of ``prediction_log`` columns) in one transaction.

        Returns
        -------
        int
            How many were written.
        """
        if not rows:
            return 0
        with self.db.write() as conn:
            conn.execute(insert(prediction_log), list(rows))
        return len(rows)

    def recent(self, deployment_id: int, limit: int = 100) -> list[dict[str, Any]]:
        """Return a deployment's newest entries, newest first (at most ``limit``)."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(prediction_log)
                .where(prediction_log.c.deployment_id == deployment_id)
                .order_by(prediction_log.c.at.desc(), prediction_log.c.id.desc())
                .limit(limit)
            ).mappings()
            return [dict(r) for r in rows]
