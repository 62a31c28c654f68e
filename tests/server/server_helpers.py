"""Helpers for the server tests: server config, notebooks, seeding a store through core."""

from __future__ import annotations

import json
import time
from pathlib import Path

from traitlets.config import Config


def server_config(store, **extra) -> Config:
    """The server config every handler test starts from."""
    config = {
        "ServerApp": {
            "jpserver_extensions": {"kernel_magics": True},
            "allow_unauthenticated_access": False,
        },
        "KernelMagicsApp": {
            "db_url": store.location.store_uri,
            "artifacts_url": store.location.artifacts_uri,
            # Handler tests need no background scheduler; test_scheduler_in_server.py turns it on.
            "run_scheduler": False,
        },
    }
    for section, values in extra.items():
        config.setdefault(section, {}).update(values)
    return Config(config)


def notebook_json(*sources: str, outputs: dict[int, list] | None = None, ids: bool = True) -> dict:
    """A small nbformat 4.5 notebook with one code cell per source."""
    cells = []
    for i, source in enumerate(sources):
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "source": source,
            "outputs": (outputs or {}).get(i, []),
        }
        if ids:
            cell["id"] = f"cell-{i}"
        cells.append(cell)
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(path: Path, content: dict) -> Path:
    """Write a notebook file (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=1))
    return path


class Seeder:
    """Put runs, metrics, artifacts and notebook versions into a store, through core only."""

    def __init__(self, store, root: Path):
        self.store = store
        self.root = root

    def run(
        self,
        experiment: str = "Default",
        *,
        params: dict | None = None,
        metrics: dict | None = None,
        tags: dict | None = None,
        name: str | None = None,
        notebook: Path | None = None,
        version_id: int | None = None,
        status: str = "finished",
        start_time: float | None = None,
    ) -> str:
        """Create one ended run with params, latest metrics and tags; return its id."""
        exp_id = self.store.experiments.get_or_create(experiment)
        run_id = self.store.runs.create(
            exp_id,
            name=name,
            source="cell",
            params=params,
            tags=tags,
            notebook_path=str(notebook.resolve()) if notebook else None,
            start_time=start_time,
        )
        if metrics:
            self.series(run_id, {k: [v] for k, v in metrics.items()})
        if version_id is not None:
            self.store.runs.set_fields(run_id, notebook_version_id=version_id)
        if status != "running":
            self.store.runs.finish(run_id, status)
        return run_id

    def series(self, run_id: str, values: dict[str, list[float]]) -> None:
        """Log whole metric series, one point per step."""
        now = time.time()
        points = [
            (run_id, key, step, now + step * 1e-3, float(v))
            for key, series in values.items()
            for step, v in enumerate(series)
        ]
        with self.store.db.write() as conn:
            self.store.runs.write_metrics(conn, points)

    def artifact(self, run_id: str, path: str, data: bytes, media_type: str | None = None) -> None:
        """Attach bytes to a run as an artifact."""
        ref = self.store.blobs.put_bytes(data)
        self.store.artifacts.add(run_id, path, ref, media_type)

    def version(self, relpath: str, content: dict) -> int:
        """Write a notebook under the Jupyter root and record its current content."""
        from kernel_magics.core.notebooks import record_notebook_version

        path = write_notebook(self.root / relpath, content)
        return record_notebook_version(self.store, path)


async def fetch_json(jp_fetch, *parts, **kwargs):
    """GET (or other method) a route and decode its JSON."""
    response = await jp_fetch(*parts, **kwargs)
    return json.loads(response.body)
