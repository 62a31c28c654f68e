"""The panel's GETs are pure reads: a store the server cannot write still serves them.

Issue 10 "Reading must not write": the handlers used to reap dead runs as a side effect of
listing them, so a read-only replica or database user could not serve the panel.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from server_helpers import fetch_json, server_config


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def dead_run(store) -> str:
    """A run left ``running`` by a process that no longer exists (written before the server)."""
    experiment = store.experiments.get_or_create("e")
    return store.runs.create(experiment, source="cell", pid=_dead_pid())


@pytest.fixture
def jp_server_config(store, _isolated_store, dead_run):
    """The server on the same SQLite file, opened read-only (SQLite refuses every write)."""
    db_file = _isolated_store / "mlops.db"
    assert db_file.exists()
    read_only = f"sqlite:///file:{db_file}?mode=ro&uri=true"
    return server_config(store, KernelMagicsApp={"db_url": read_only})


async def test_runs_list_and_detail_answer_from_a_read_only_store(jp_fetch, dead_run, store):
    # When the panel lists runs and opens the dead one
    listing = await fetch_json(jp_fetch, "mlops", "api", "runs")
    detail = await fetch_json(jp_fetch, "mlops", "api", "runs", dead_run)
    # Then both answer, and show the dead run crashed (derived, not stored)
    assert [(r["id"], r["status"]) for r in listing["runs"]] == [(dead_run, "crashed")]
    assert detail["status"] == "crashed"
    assert detail["end_time"] is not None
    # And nothing was written: the row still says running
    assert store.db.dialect == "sqlite"
    import sqlite3

    db_file = store.location.store_uri.removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as conn:
        (stored,) = conn.execute("SELECT status FROM runs WHERE id = ?", (dead_run,)).fetchone()
    assert stored == "running"
