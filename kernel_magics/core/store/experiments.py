"""Experiments: named groups of runs."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import delete, func, select, update

from ...errors import ExperimentNotFoundError, ValidationError
from .db import Database
from .records import ExperimentRecord
from .schema import experiment_tags, experiments, runs
from .upsert import upsert

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
        query = select(experiments.c.id).where(experiments.c.name == name)
        with self.db.read() as conn:
            exp_id = conn.execute(query).scalar()
        if exp_id is None:
            with self.db.write() as conn:  # race-free get-or-create (ON CONFLICT DO NOTHING)
                upsert(conn, experiments, [{"name": name, "created_at": time.time()}], ["name"], [])
                exp_id = conn.execute(query).scalar_one()
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
            query = select(experiments.c.id).where(experiments.c.name == name)
            exp_id = conn.execute(query).scalar()
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
            tags: dict[int, dict[str, str]] = {}
            for t in conn.execute(select(experiment_tags).order_by(experiment_tags.c.key)):
                tags.setdefault(t.experiment_id, {})[t.key] = t.value
        return [
            ExperimentRecord(
                id=r.id,
                name=r.name,
                description=r.description,
                created_at=r.created_at,
                run_count=r.n or 0,
                last_run_at=r.last,
                tags=tags.get(r.id, {}),
            )
            for r in rows
        ]

    def set_description(self, name: str, description: str | None) -> None:
        """Set (or with None clear) the description of existing experiment ``name``."""
        exp_id = self.id_of(name)
        with self.db.write() as conn:
            conn.execute(
                update(experiments)
                .where(experiments.c.id == exp_id)
                .values(description=description)
            )

    def set_tags(self, name: str, values: dict[str, str]) -> None:
        """Set (or overwrite) tags of existing experiment ``name``."""
        exp_id = self.id_of(name)
        rows = [{"experiment_id": exp_id, "key": k, "value": str(v)} for k, v in values.items()]
        if not rows:
            return
        with self.db.write() as conn:
            upsert(conn, experiment_tags, rows, ["experiment_id", "key"], ["value"])

    def delete_tags(self, name: str, keys: Iterable[str]) -> None:
        """Remove tags of experiment ``name`` (keys it does not have are ignored)."""
        exp_id = self.id_of(name)
        with self.db.write() as conn:
            conn.execute(
                delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == exp_id, experiment_tags.c.key.in_(list(keys))
                )
            )
