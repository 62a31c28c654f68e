"""Deployment rows, events, reaping and the prediction log on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import kernel_magics as mlops
from kernel_magics.core.serving.predlog import PredictionLogger
from kernel_magics.core.serving.repository import DeploymentRepository


def test_deployment_records_and_prediction_log(any_store):
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(40, 2))
    version = mlops.log_model(LogisticRegression().fit(X, X[:, 0] > 0), "m", input_example=X,
                              store=any_store)  # fmt: skip
    repo = DeploymentRepository(any_store)
    # a server process that has already exited: the reaper marks its deployment crashed
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    dep_id = repo.create(version.id, "production", "127.0.0.1", 5005, pid=dead.pid,
                         status="running")  # fmt: skip
    live_id = repo.create(version.id, None, "127.0.0.1", 5006, pid=os.getpid(), status="running")
    assert repo.reap() == [dep_id]
    assert repo.get(dep_id).status == "crashed"
    assert [d.id for d in repo.find(live_only=True)] == [live_id]
    assert [e["event"] for e in repo.events(dep_id)] == ["created", "crashed"]
    assert repo.get(live_id).url == "http://127.0.0.1:5006"

    logger = PredictionLogger(any_store, live_id, version.id, sample_rate=1.0)
    logger.record(1.5, 200, ["0", "1"], [[0.1, 0.2], [0.3, 0.4]], np.array([True, False]))
    logger.record(0.2, 422, error="Missing column '1'")
    logger.close()
    assert logger.written == 2 and logger.dropped == 0
    newest, oldest = repo.predictions(live_id)
    assert json.loads(oldest["inputs"]) == [{"0": 0.1, "1": 0.2}, {"0": 0.3, "1": 0.4}]
    assert json.loads(oldest["outputs"]) == [True, False]
    assert newest["status_code"] == 422 and newest["inputs"] is None
