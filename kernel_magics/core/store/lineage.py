"""The links lineage walks, read in batches (issue 14).

Which runs read or wrote a dataset version, which model versions a run produced, the aliases
and deployments of a model version, and the same links backwards.

Every method takes a batch of ids and answers one query per call, so walking a graph of any
size costs one round trip per layer (never one per node). The walk itself is
:mod:`kernel_magics.core.lineage`; this module only reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, and_, select

from .db import Database
from .schema import (
    dataset_versions,
    datasets,
    deployments,
    experiments,
    model_aliases,
    model_versions,
    models,
    notebook_versions,
    run_datasets,
    runs,
)
from .schema_datasets import dataset_contents


class LineageRepository:
    """Batched reads of the links between datasets, runs, notebooks, models and deployments."""

    def __init__(self, db: Database):
        self.db = db

    def _rows(self, query: Select) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- nodes ---------------------------------------------------------------------------------
    def dataset_versions(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """``{id, name, version, hash, rows, created_at}`` of dataset versions."""
        query = (
            select(
                dataset_versions.c.id,
                datasets.c.name,
                dataset_contents.c.number.label("version"),
                dataset_versions.c.hash,
                dataset_versions.c.rows,
                dataset_versions.c.created_at,
            )
            .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            .join(dataset_contents, dataset_contents.c.dataset_version_id == dataset_versions.c.id)
            .where(dataset_versions.c.id.in_(list(ids)))
        )
        return self._rows(query)

    def runs(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """``{id, name, status, experiment, start_time, notebook_version_id}`` of runs."""
        query = (
            select(
                runs.c.id,
                runs.c.name,
                runs.c.status,
                experiments.c.name.label("experiment"),
                runs.c.start_time,
                runs.c.notebook_version_id,
            )
            .join(experiments, experiments.c.id == runs.c.experiment_id)
            .where(runs.c.id.in_(list(ids)))
        )
        return self._rows(query)

    def notebook_versions(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """``{id, path, blob_hash, created_at}`` of notebook versions."""
        query = select(
            notebook_versions.c.id,
            notebook_versions.c.path,
            notebook_versions.c.blob_hash,
            notebook_versions.c.created_at,
        ).where(notebook_versions.c.id.in_(list(ids)))
        return self._rows(query)

    def _model_version_query(self) -> Select:
        return select(
            model_versions.c.id,
            models.c.name,
            model_versions.c.version,
            model_versions.c.run_id,
            model_versions.c.created_at,
        ).join(models, models.c.id == model_versions.c.model_id)

    def model_versions(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """``{id, name, version, run_id, created_at}`` of model versions."""
        return self._rows(self._model_version_query().where(model_versions.c.id.in_(list(ids))))

    def deployments(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """``{id, model_version_id, name, alias, status, host, port}`` of deployments."""
        return self._rows(self._deployment_query().where(deployments.c.id.in_(list(ids))))

    def _deployment_query(self) -> Select:
        return select(
            deployments.c.id,
            deployments.c.model_version_id,
            models.c.name,
            deployments.c.alias,
            deployments.c.status,
            deployments.c.host,
            deployments.c.port,
            deployments.c.created_at,
        ).join(models, models.c.id == deployments.c.model_id)

    # -- links ---------------------------------------------------------------------------------
    def dataset_uses(
        self, *, version_ids: Iterable[int] = (), run_ids: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """``{run_id, dataset_version_id, role}`` links of these dataset versions or runs."""
        cond = run_datasets.c.dataset_version_id.in_(list(version_ids)) | run_datasets.c.run_id.in_(
            list(run_ids)
        )
        return self._rows(select(run_datasets).where(cond))

    def models_of_runs(self, run_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Model versions the runs produced."""
        return self._rows(
            self._model_version_query().where(model_versions.c.run_id.in_(list(run_ids)))
        )

    def aliases(
        self, *, version_ids: Iterable[int] = (), names: Iterable[tuple[str, str]] = ()
    ) -> list[dict[str, Any]]:
        """``{name, alias, model_version_id}`` of aliases on these versions or with these names.

        ``names`` holds ``(model, alias)`` pairs.
        """
        pairs = list(names)
        cond: Any = model_aliases.c.model_version_id.in_(list(version_ids))
        for name, alias in pairs:
            cond = cond | and_(models.c.name == name, model_aliases.c.alias == alias)
        query = (
            select(models.c.name, model_aliases.c.alias, model_aliases.c.model_version_id)
            .join(models, models.c.id == model_aliases.c.model_id)
            .where(cond)
        )
        return self._rows(query)

    def deployments_of_versions(self, version_ids: Iterable[int]) -> list[dict[str, Any]]:
        """Deployments (any status) serving these model versions."""
        ids = list(version_ids)
        return self._rows(self._deployment_query().where(deployments.c.model_version_id.in_(ids)))
