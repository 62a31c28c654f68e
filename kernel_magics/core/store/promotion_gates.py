"""Promotion-gate evaluations per model version: the ``store.promotion_gates`` repository.

``mlops promote`` records every evaluation of its conditions here, whether the gate passed or
not (a dry run is not recorded), so a model card can show each attempt with the values the
conditions were checked against and who tried.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..actor import current_actor
from .db import Database
from .schema_gates import promotion_gates


@dataclass(frozen=True)
class GateEvaluation:
    """One stored evaluation of a promotion gate.

    Attributes
    ----------
    id, model_version_id : int
        The evaluation and the candidate version's row id.
    alias : str
        The alias the gate was asked to move.
    passed : bool
        Whether every condition held (and so the alias moved).
    checks : list of dict
        One ``GateCheck`` each: ``condition``, ``candidate``, ``reference``, ``passed``, ``detail``.
    actor : str
        Who ran the promotion (the OS user, or the Jupyter user through the server).
    evaluated_at : float
        UTC epoch seconds.
    """

    id: int
    model_version_id: int
    alias: str
    passed: bool
    checks: list[dict[str, Any]]
    actor: str
    evaluated_at: float


class PromotionGateRepository:
    """Reads and writes of ``promotion_gates``."""

    def __init__(self, db: Database):
        self.db = db

    def record(
        self, model_version_id: int, alias: str, passed: bool, checks: list[dict[str, Any]]
    ) -> int:
        """Store one evaluation of the gate for a candidate version; return its id."""
        row = {
            "model_version_id": model_version_id,
            "alias": alias,
            "passed": int(bool(passed)),
            "checks": json.dumps(checks, default=str),
            "actor": current_actor(),
            "evaluated_at": time.time(),
        }
        with self.db.write() as conn:
            key = conn.execute(promotion_gates.insert().values(row)).inserted_primary_key
            assert key is not None
            return int(key[0])

    def history(self, model_version_id: int, limit: int = 50) -> list[GateEvaluation]:
        """A version's gate evaluations, newest first."""
        query = (
            select(promotion_gates)
            .where(promotion_gates.c.model_version_id == model_version_id)
            .order_by(promotion_gates.c.id.desc())  # ids grow with time
            .limit(limit)
        )
        with self.db.read() as conn:
            return [
                GateEvaluation(
                    r.id,
                    r.model_version_id,
                    r.alias,
                    bool(r.passed),
                    json.loads(r.checks),
                    r.actor,
                    r.evaluated_at,
                )
                for r in conn.execute(query)
            ]
