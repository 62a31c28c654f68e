"""The store: the only place that speaks SQL or touches blobs.

``open_store()`` returns the process's store for the resolved location (see
:mod:`kernel_magics.core.config`), creating or migrating its schema on first use.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..config import StoreLocation, resolve_location

if TYPE_CHECKING:  # the repositories import SQLAlchemy: load each on first use only
    from .alerts import AlertRepository
    from .artifacts import ArtifactRepository, DatasetRepository
    from .audit import AuditRepository
    from .automations import AutomationRepository
    from .blobs import BlobStore
    from .challengers import ChallengerRepository
    from .dataset_checks import DatasetCheckRepository
    from .dataset_versions import DatasetVersionRepository
    from .db import Database
    from .deployments import DeploymentRepository
    from .experiments import ExperimentRepository
    from .leases import LeaseRepository
    from .lineage import LineageRepository
    from .model_cards import ModelCardRepository
    from .model_tests import ModelTestRepository
    from .models import ModelRepository
    from .monitoring import MonitoringRepository
    from .notebooks import NotebookRepository
    from .notes import NoteRepository
    from .predictions import PredictionRepository
    from .promotion_gates import PromotionGateRepository
    from .run_reads import RunReads
    from .runs import RunRepository
    from .schedules import ScheduleRepository
    from .search import RunPage
    from .slots import SlotRepository
    from .writer import MetricWriter

__all__ = ["Store", "open_store", "close_stores"]


class Store:
    """A metadata database plus a blob store, with one repository per kind of thing.

    Parameters
    ----------
    location : StoreLocation
        Where the database and the artifacts live.
    """

    def __init__(self, location: StoreLocation):
        # Imported here, not at the top: importing the package (for its SQLAlchemy-free
        # modules such as quick_reads and liveness) must not import SQLAlchemy.
        from .blobs import BlobStore
        from .db import Database
        from .migrate import ensure_schema

        self.location = location
        self.db: Database = Database(location.store_uri)
        self.blobs: BlobStore = BlobStore(location.artifacts_uri)
        lock = None
        if self.db.is_sqlite and location.home is not None:
            lock = location.home / "schema.lock"
        self.schema_status = ensure_schema(self.db, lock)

    def run_reads(self, conn: Any = None) -> RunReads:
        """Reads of runs for tables and detail views (:class:`~.run_reads.RunReads`).

        On ``conn`` (one snapshot) when given, else one read transaction per statement.
        """
        from .read_statements import sqlalchemy_fetch
        from .run_reads import RunReads

        return RunReads(sqlalchemy_fetch(self.db, conn))

    # One typed repository per kind of thing; each is built once per store, on first use.
    @cached_property
    def experiments(self) -> ExperimentRepository:
        """Experiments."""
        from .experiments import ExperimentRepository

        return ExperimentRepository(self.db)

    @cached_property
    def runs(self) -> RunRepository:
        """Runs, params, tags, metrics, their status (the one writer of it) and reaping."""
        from .runs import RunRepository

        return RunRepository(self.db)

    @cached_property
    def artifacts(self) -> ArtifactRepository:
        """Run artifacts and the blobs table."""
        from .artifacts import ArtifactRepository

        return ArtifactRepository(self.db, self.blobs)

    @cached_property
    def datasets(self) -> DatasetRepository:
        """Datasets, their versions and which runs read them."""
        from .artifacts import DatasetRepository

        return DatasetRepository(self.db)

    @cached_property
    def dataset_versions(self) -> DatasetVersionRepository:
        """Dataset versions with their numbers and stored content (chunks, manifests)."""
        from .dataset_versions import DatasetVersionRepository

        return DatasetVersionRepository(self.db)

    @cached_property
    def notebooks(self) -> NotebookRepository:
        """Notebook versions (path, content hash, blob)."""
        from .notebooks import NotebookRepository

        return NotebookRepository(self.db, self.blobs)

    @cached_property
    def models(self) -> ModelRepository:
        """Registered models, their versions, aliases and alias history."""
        from .models import ModelRepository

        return ModelRepository(self.db, self.blobs)

    @cached_property
    def model_cards(self) -> ModelCardRepository:
        """Model cards: intended use, limitations and importance stored with a version."""
        from .model_cards import ModelCardRepository

        return ModelCardRepository(self.db)

    @cached_property
    def deployments(self) -> DeploymentRepository:
        """Model-server deployments and their events."""
        from .deployments import DeploymentRepository

        return DeploymentRepository(self.db)

    @cached_property
    def predictions(self) -> PredictionRepository:
        """The model servers' prediction log."""
        from .predictions import PredictionRepository

        return PredictionRepository(self.db)

    @cached_property
    def monitoring(self) -> MonitoringRepository:
        """Monitoring buckets of model servers and batches, predictions by request id, labels."""
        from .monitoring import MonitoringRepository

        return MonitoringRepository(self.db)

    @cached_property
    def schedules(self) -> ScheduleRepository:
        """Schedules (cron, timezone, notebook, policy) and their history."""
        from .schedules import ScheduleRepository

        return ScheduleRepository(self.db)

    @cached_property
    def slots(self) -> SlotRepository:
        """Schedule slots: materializing, claiming, completing and reaping them."""
        from .slots import SlotRepository

        return SlotRepository(self.db)

    @cached_property
    def leases(self) -> LeaseRepository:
        """Named leases with an owner and an expiry (scheduler leadership, slot claims)."""
        from .leases import LeaseRepository

        return LeaseRepository(self.db)

    @cached_property
    def model_tests(self) -> ModelTestRepository:
        """Model test reports per model version (``mlops test``, ``promote --require-tests``)."""
        from .model_tests import ModelTestRepository

        return ModelTestRepository(self.db)

    @cached_property
    def promotion_gates(self) -> PromotionGateRepository:
        """Every evaluation of ``mlops promote``'s gate per version, passed or failed."""
        from .promotion_gates import PromotionGateRepository

        return PromotionGateRepository(self.db)

    @cached_property
    def alerts(self) -> AlertRepository:
        """Alert rules on monitored models and their incidents."""
        from .alerts import AlertRepository

        return AlertRepository(self.db)

    @cached_property
    def audit(self) -> AuditRepository:
        """The audit trail: who changed which alias, deployment, schedule, alert and when."""
        from .audit import AuditRepository

        return AuditRepository(self.db)

    @cached_property
    def dataset_checks(self) -> DatasetCheckRepository:
        """Datasets' quality checks and each version's latest check result."""
        from .dataset_checks import DatasetCheckRepository

        return DatasetCheckRepository(self.db)

    @cached_property
    def lineage(self) -> LineageRepository:
        """Batched reads of the links lineage walks (datasets, runs, models, deployments)."""
        from .lineage import LineageRepository

        return LineageRepository(self.db)

    @cached_property
    def notes(self) -> NoteRepository:
        """Notes on runs, model versions and deployments, with author and time."""
        from .notes import NoteRepository

        return NoteRepository(self.db)

    @cached_property
    def challengers(self) -> ChallengerRepository:
        """Challenger deployments (shadow, canary), their counts, and deployment guards."""
        from .challengers import ChallengerRepository

        return ChallengerRepository(self.db)

    @cached_property
    def automations(self) -> AutomationRepository:
        """Automations, their trigger events (claimed exactly once) and execution history."""
        from .automations import AutomationRepository

        return AutomationRepository(self.db)

    @cached_property
    def writer(self) -> MetricWriter:
        """The buffered background writer of metric points and heartbeats (one per process)."""
        from .writer import MetricWriter

        return MetricWriter(self)

    def search_runs(self, **kwargs: Any) -> RunPage:
        """Search runs; see :func:`kernel_magics.core.store.search.search_runs`."""
        from .search import search_runs

        return search_runs(self, **kwargs)

    def close(self) -> None:
        """Write what is still buffered for this store, then release database connections."""
        writer = self.__dict__.get("writer")  # only if this process ever wrote through it
        if writer is not None:
            writer.close()
        self.db.dispose()


_stores: dict[tuple[str, str], Store] = {}
_stores_pid = os.getpid()
_lock = threading.Lock()


def open_store(location: StoreLocation | None = None) -> Store:
    """Return the (cached) store for ``location``, or for the resolved default location.

    Parameters
    ----------
    location : StoreLocation, optional
        Where the store lives; resolved from ``MLOPS_*`` variables and the working directory
        when omitted.
    """
    global _stores_pid
    location = location or resolve_location()
    key = (location.store_uri, location.artifacts_uri)
    with _lock:
        if _stores_pid != os.getpid():  # forked: never share pooled connections with a parent
            for store in _stores.values():
                store.db.engine.dispose(close=False)
            _stores.clear()
            _stores_pid = os.getpid()
        cached = _stores.get(key)
        if cached is None:
            cached = _stores[key] = Store(location)
        return cached


def close_stores() -> None:
    """Dispose every cached store (tests, and before exec-ing a subprocess)."""
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
