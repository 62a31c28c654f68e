"""Deployment rows, events, reaping and the prediction log on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kernel_magics as mlops
from kernel_magics.core.serving.predlog import PredictionLogger


@pytest.fixture
def version(any_store):
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(40, 2))
    return mlops.log_model(
        LogisticRegression().fit(X, X[:, 0] > 0), "m", input_example=X, store=any_store
    )


def dead_pid() -> int:
    """The pid of a server process that has already exited."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


@pytest.fixture
def live_pid():
    """The pid of a live process that is not a model server (and not pytest, which the serving
    tests' teardown would signal as a leftover server)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_deployment_records_and_prediction_log(any_store, version, live_pid):
    repo = any_store.deployments
    dep_id = repo.create(version.id, "production", "127.0.0.1", 5005, pid=dead_pid(),
                         status="running")  # fmt: skip
    live_id = repo.create(version.id, None, "127.0.0.1", 5006, pid=live_pid, status="running")
    assert repo.reap() == [dep_id]
    assert repo.status(dep_id) == "crashed"  # written by the reaper
    assert repo.get(dep_id).status == "crashed"
    assert [d.id for d in repo.find(live_only=True)] == [live_id]
    assert [e["event"] for e in repo.events(dep_id)] == ["created", "crashed"]
    assert repo.get(live_id).url == "http://127.0.0.1:5006"
    assert repo.reap() == []  # already recorded: no second event

    logger = PredictionLogger(any_store, live_id, version.id, sample_rate=1.0)
    logger.record(1.5, 200, ["0", "1"], [[0.1, 0.2], [0.3, 0.4]], np.array([True, False]))
    logger.record(0.2, 422, error="Missing column '1'")
    logger.close()
    assert logger.written == 2 and logger.dropped == 0
    newest, oldest = any_store.predictions.recent(live_id)
    assert json.loads(oldest["inputs"]) == [{"0": 0.1, "1": 0.2}, {"0": 0.3, "1": 0.4}]
    assert json.loads(oldest["outputs"]) == [True, False]
    assert newest["status_code"] == 422 and newest["inputs"] is None
    assert any_store.predictions.recent(live_id, limit=1) == [newest]


def test_reading_a_dead_deployment_shows_it_crashed_without_writing(any_store, version):
    # Given a deployment recorded running whose server process is gone
    repo = any_store.deployments
    dep_id = repo.create(version.id, "production", "127.0.0.1", 5007, pid=dead_pid(),
                         status="running")  # fmt: skip
    # When it is read, one by one and in lists
    shown = repo.get(dep_id)
    listed = repo.find()
    live = repo.find(live_only=True)
    # Then every read shows it crashed and not live...
    assert shown.status == "crashed"
    assert [(d.id, d.status) for d in listed] == [(dep_id, "crashed")]
    assert live == []
    assert mlops.list_deployments(all=True, store=any_store)[0].status == "crashed"
    # ...while the row still says what it said: reads do not write
    assert repo.status(dep_id) == "running"
    assert [e["event"] for e in repo.events(dep_id)] == ["created"]
    # and the writer's explicit reap persists it
    assert repo.reap() == [dep_id]
    assert repo.status(dep_id) == "crashed"


def test_deployment_reads_work_on_a_read_only_database(any_store, version):
    # Given a dead deployment in a SQLite store, opened read-only (a replica, a read-only user)
    from kernel_magics.core.config import StoreLocation
    from kernel_magics.core.store import Store

    store = any_store
    if not store.db.is_sqlite:
        pytest.skip("a read-only SQLite file; on PostgreSQL the same reads run as one SELECT")

    dep_id = store.deployments.create(version.id, None, "127.0.0.1", 5008, pid=dead_pid(),
                                      status="running")  # fmt: skip
    path = store.db.engine.url.database
    store.close()
    os.chmod(path, 0o444)
    try:
        location = StoreLocation(
            store_uri=f"sqlite:///file:{path}?mode=ro&uri=true",
            artifacts_uri=store.location.artifacts_uri,
            home=None,
            reason="a read-only replica",
        )
        readonly = Store(location)
        # When the panel's kind of read happens, Then it answers and shows the derived status
        assert readonly.deployments.get(dep_id).status == "crashed"
        assert [d.status for d in readonly.deployments.find()] == ["crashed"]
        readonly.close()
    finally:
        os.chmod(path, 0o644)
