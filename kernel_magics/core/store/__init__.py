"""The store: the only place that speaks SQL or touches blobs.

``open_store()`` returns the process's store for the resolved location (see
:mod:`kernel_magics.core.config`), creating or migrating its schema on first use.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property

from ..config import StoreLocation, resolve_location
from .blobs import BlobStore
from .db import Database
from .migrate import ensure_schema

__all__ = ["Store", "open_store", "close_stores"]


class Store:
    """A metadata database plus a blob store, with one repository per kind of thing.

    Parameters
    ----------
    location : StoreLocation
        Where the database and the artifacts live.
    """

    def __init__(self, location: StoreLocation):
        self.location = location
        self.db = Database(location.store_uri)
        self.blobs = BlobStore(location.artifacts_uri)
        lock = None
        if self.db.is_sqlite and location.home is not None:
            lock = location.home / "schema.lock"
        self.schema_status = ensure_schema(self.db, lock)

    @cached_property
    def experiments(self):
        """Experiments (:class:`~.experiments.ExperimentRepository`)."""
        from .experiments import ExperimentRepository

        return ExperimentRepository(self.db)

    @cached_property
    def runs(self):
        """Runs, params, tags, metrics (:class:`~.runs.RunRepository`)."""
        from .runs import RunRepository

        return RunRepository(self.db)

    @cached_property
    def artifacts(self):
        """Run artifacts (:class:`~.artifacts.ArtifactRepository`)."""
        from .artifacts import ArtifactRepository

        return ArtifactRepository(self.db, self.blobs)

    @cached_property
    def datasets(self):
        """Datasets and their versions (:class:`~.artifacts.DatasetRepository`)."""
        from .artifacts import DatasetRepository

        return DatasetRepository(self.db)

    def search_runs(self, **kwargs):
        """Search runs; see :func:`kernel_magics.core.store.search.search_runs`."""
        from .search import search_runs

        return search_runs(self, **kwargs)

    def close(self) -> None:
        """Write what is still buffered for this store, then release database connections."""
        flusher = self.__dict__.get("_km_flusher")  # set by kernel_magics.core.flusher
        if flusher is not None:
            flusher.close()
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
