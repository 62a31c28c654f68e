"""Experiments: named groups of runs."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ...errors import ExperimentNotFoundError, ValidationError
from .db import Database
from .records import ExperimentRecord
from .schema import experiments, runs

DEFAULT_EXPERIMENT = "Default"


class ExperimentRepository:
    """Create, find and list experiments."""

    def __init__(self, db: Database):
        self.db = db
        self._ids: dict[str, int] = {}

    def get_or_create(self, name: str | None) -> int:
        """Return the id of experiment ``name``, creating it on first use."""
        name = (name or DEFAULT_EXPERIMENT).strip()
        if not name or len(name) > 255:
            raise ValidationError("An experiment name must be 1 to 255 characters long.")
        cached = self._ids.get(name)
        if cached is not None:
            return cached
        with self.db.read() as conn:
            found = conn.execute(select(experiments.c.id).where(experiments.c.name == name))
            exp_id = found.scalar()
        if exp_id is None:
            try:
                with self.db.write() as conn:
                    exp_id = conn.execute(
                        experiments.insert().values(name=name, created_at=time.time())
                    ).inserted_primary_key[0]
            except IntegrityError:  # another process created it first
                with self.db.read() as conn:
                    exp_id = conn.execute(
                        select(experiments.c.id).where(experiments.c.name == name)
                    ).scalar_one()
        self._ids[name] = exp_id
        return exp_id

    def id_of(self, name: str) -> int:
        """Return the id of an existing experiment.

        Raises
        ------
        ExperimentNotFoundError
            When no experiment has that name.
        """
        with self.db.read() as conn:
            exp_id = conn.execute(select(experiments.c.id).where(experiments.c.name == name))
            exp_id = exp_id.scalar()
        if exp_id is None:
            known = ", ".join(e.name for e in self.list()[:10]) or "none yet"
            raise ExperimentNotFoundError(f"No experiment named {name!r}. Known: {known}.")
        return exp_id

    def list(self) -> list[ExperimentRecord]:
        """Every experiment with its run count, most recently active first."""
        counts = (
            select(
                runs.c.experiment_id,
                func.count().label("n"),
                func.max(runs.c.start_time).label("last"),
            )
            .group_by(runs.c.experiment_id)
            .subquery()
        )
        query = (
            select(experiments, counts.c.n, counts.c.last)
            .outerjoin(counts, counts.c.experiment_id == experiments.c.id)
            .order_by(func.coalesce(counts.c.last, experiments.c.created_at).desc())
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [
            ExperimentRecord(
                id=r.id,
                name=r.name,
                description=r.description,
                created_at=r.created_at,
                run_count=r.n or 0,
                last_run_at=r.last,
            )
            for r in rows
        ]
