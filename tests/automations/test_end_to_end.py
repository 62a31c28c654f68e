"""The issue's end to end, on real model servers, with injected scheduler time.

1. A new version of the ``churn`` dataset triggers the train template (``templates/``); the
   model test passes, the gate passes, the new version runs in shadow then canary while a
   client sends real requests, and is promoted: ``churn@production`` moves with no failed
   request.
2. A broken version (a model that raises on some inputs) registered by hand triggers the
   vetting automation: tests and gate pass, but the guard sees the challenger fail and rolls it
   back; the chain stops there, production stays, the client sees zero failed requests.
3. Shifted traffic makes the drift alert open an incident, which triggers a retrain.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import httpx
import numpy as np
import pandas as pd
import pytest
from automation_helpers import make_scheduler, tick
from churn_data import churn_frame

import kernel_magics as mlops
from kernel_magics.core.automations.api import add_automation, automation_history
from kernel_magics.core.registry import parse_ref
from kernel_magics.core.scheduler.clock import ManualClock
from kernel_magics.core.serving.challengers import challenger_status

pytestmark = pytest.mark.slow

TEMPLATE = Path(__file__).parents[2] / "templates" / "train.ipynb"
BAD_CHARGES = 500.0  # the broken model raises on rows with charges above this
GUARDS = ["errors.rate < 0.01"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def labelled(rows: int, seed: int, noise: float) -> pd.DataFrame:
    """Churn rows with a ``target`` column, a share ``noise`` of the labels flipped."""
    frame, target = churn_frame(rows, seed)
    flip = np.random.default_rng(seed + 100).random(rows) < noise
    return frame.assign(target=np.where(flip, 1 - target, target))


def _raise_on_bad_charges(frame):
    """The broken model's first step: it fails on rows it never saw in training."""
    values = np.asarray(frame, dtype=float)
    if (values[:, 1] > BAD_CHARGES).any():
        raise ValueError("charges out of range")
    return values


class Client(threading.Thread):
    """Sends /predict requests (every ``bad_every``-th with out-of-range charges) until told."""

    def __init__(self, url: str, bad_every: int = 0, shift: float = 0.0):
        super().__init__(daemon=True)
        self.url, self.bad_every, self.shift = url, bad_every, shift
        self.failures: list = []
        self.versions: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        rng = np.random.default_rng(7)
        with httpx.Client(timeout=20) as client:
            i = 0
            while not self.stop.is_set():
                i += 1
                row = {"tenure": int(rng.integers(0, 72)) + int(self.shift),
                       "charges": float(rng.normal(70, 20)) + self.shift * 3,
                       "support_calls": int(rng.integers(0, 10))}  # fmt: skip
                if self.bad_every and i % self.bad_every == 0:
                    row["charges"] = BAD_CHARGES * 2
                try:
                    resp = client.post(f"{self.url}/predict", json=[row],
                                       headers={"X-Request-Id": f"client-{i}"})  # fmt: skip
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if resp.status_code != 200:
                    self.failures.append(resp.status_code)
                else:
                    self.versions.append(resp.headers["x-model-version"])
                time.sleep(0.01)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=60)


@pytest.fixture
def _stop_servers(store):
    yield
    from kernel_magics.core.serving.deployments import get_backend, list_deployments

    backend = get_backend()
    for dep in list_deployments(store=store):
        backend.stop(dep, reason="end of test")


def _challenger_steps(mode_for: float) -> list[dict]:
    return [
        {"deploy_challenger": {"mode": "shadow", "guards": GUARDS, "for": mode_for,
                               "allow_pickle": True}},
        {"deploy_challenger": {"mode": "canary", "share": 0.5, "guards": GUARDS,
                               "for": mode_for, "allow_pickle": True}},
        {"promote_challenger": {}},
    ]  # fmt: skip


def test_new_data_to_safe_deployment_and_back(store, inbox, _stop_servers):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    clock = ManualClock(time.time())
    # Given: churn/1 in production, trained by hand on noisy labels, served on a real port.
    noisy = labelled(400, 0, noise=0.3)
    features = noisy.drop(columns=["target"])
    with mlops.start_run():
        v1 = LogisticRegression(max_iter=500).fit(features, noisy["target"])
        mlops.log_metric("accuracy", float(v1.score(features, noisy["target"])))
        mlops.log_model(v1, "churn", input_example=features.head(20), training_data=features,
                        alias="production")  # fmt: skip
        mlops.log_dataset(labelled(300, 1, noise=0.0), name="churn-holdout")
    dep = mlops.deploy("churn@production", port=free_port())
    add_automation({"name": "retrain", "trigger": {"dataset": "churn"}, "steps": [
        {"run_notebook": {"notebook": str(TEMPLATE), "parameters": {
            "data": "${dataset_ref}", "model_name": "churn", "estimator": "random_forest",
            "n_estimators": 30}}},
        {"test": {"holdout": "churn-holdout@1", "conditions": ["accuracy >= 0.8"],
                  "latency_budget_ms": 500}},
        {"promote": {"to": "candidate", "better_than": "production", "metric": "accuracy"}},
        *_challenger_steps(3.0),
        inbox.step("retrained"),
    ]}, store=store, now=clock.now())  # fmt: skip
    scheduler = make_scheduler(store, clock)
    client = Client(dep.url, bad_every=9)
    client.start()

    # When: a new version of the dataset arrives
    with mlops.start_run():
        mlops.log_dataset(labelled(600, 2, noise=0.05), name="churn")
    clock.advance(5)
    tick(scheduler)

    # Then: trained, tested, gated, shadow, canary, promoted, notified
    [event] = automation_history("retrain", store=store)
    assert event["status"] == "finished", event["error"]
    parent = store.runs.get(event["run_id"])
    assert parent.params["dataset_ref"] == "churn@1"
    page = store.search_runs(parent_run_ids=[parent.id])
    steps = sorted((store.runs.get(i) for i in page.run_ids), key=lambda r: r.name)
    assert [(r.name, r.status) for r in steps] == [
        ("1. run_notebook", "finished"), ("2. test", "finished"), ("3. promote", "finished"),
        ("4. deploy_challenger", "finished"), ("5. deploy_challenger", "finished"),
        ("6. promote_challenger", "finished"), ("7. notify", "finished")]  # fmt: skip
    assert steps[0].params["data"] == "churn@1"  # the trigger's data went in as a parameter
    assert "registered churn/2" in steps[0].tags["mlops.automation.result"]
    assert "tests of churn/2 passed" in steps[1].tags["mlops.automation.result"]
    assert "shadow churn/2" in steps[3].tags["mlops.automation.result"]
    assert "canary 50% churn/2" in steps[4].tags["mlops.automation.result"]
    assert store.models.get_version(parse_ref("churn@production")).version == 2
    assert httpx.get(f"{dep.url}/health").json()["version"] == 2
    assert inbox.messages[-1]["model"] == "churn/2"
    time.sleep(0.5)
    answered_before = len(client.versions)
    assert client.failures == [] and {"1", "2"} <= set(client.versions)

    # When: a broken version is registered by hand; the vetting automation takes it
    # (no test step: the model tests load models without pickle, and this one is cloudpickle)
    add_automation({"name": "vet", "trigger": {"model": "churn"}, "steps": [
        {"promote": {"to": "candidate", "better_than": "production", "metric": "accuracy"}},
        *_challenger_steps(20.0),
    ]}, store=store, now=clock.now())  # fmt: skip
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the server cannot import us
    clean = labelled(600, 3, noise=0.0)
    with mlops.start_run():
        broken = make_pipeline(FunctionTransformer(_raise_on_bad_charges),
                               LogisticRegression(max_iter=1000))  # fmt: skip
        broken.fit(clean.drop(columns=["target"]), clean["target"])
        mlops.log_metric("accuracy", 0.999)
        mlops.log_model(broken, "churn", input_example=clean.drop(columns=["target"]).head(20),
                        format="cloudpickle", allow_pickle=True)  # fmt: skip
    clock.advance(5)
    tick(scheduler)

    # Then: the guard rolled it back; the chain stopped; production did not move
    [vet] = automation_history("vet", store=store)
    assert vet["status"] == "failed"
    assert "Step 2 (deploy_challenger) failed: A guard rolled back shadow churn/3" in vet["error"]
    status = challenger_status("churn@production")
    assert (status.challenger.challenger_version, status.challenger.status) == (3, "rolled_back")
    assert "errors.rate < 0.01" in (status.challenger.reason or "")
    assert store.models.get_version(parse_ref("churn@production")).version == 2
    time.sleep(0.5)
    assert client.failures == []  # zero failed client requests through all of it
    assert len(client.versions) > answered_before and "3" not in client.versions
    client.finish()

    # When: traffic shifts; the drift alert opens an incident, which triggers a retrain
    mlops.add_alert("churn-drift", "churn@production", "drift.share > 0.3", window="10m")
    add_automation({"name": "drift-retrain", "trigger": {"alert": "churn-drift"}, "steps": [
        {"run_notebook": {"notebook": str(TEMPLATE), "parameters": {
            "data": "churn@latest", "model_name": "churn-drift-retrained",
            "n_estimators": 10, "estimator": "random_forest"}}},
    ]}, store=store, now=clock.now())  # fmt: skip
    shifted = Client(dep.url, shift=100.0)
    shifted.start()
    time.sleep(4.0)
    shifted.finish()
    assert shifted.failures == []
    time.sleep(2.0)  # the server flushes its monitoring counts
    clock.set(time.time() + 60)
    alerting = make_scheduler(store, clock, "sched-alerts", alerts=True)
    tick(alerting)

    [incident] = mlops.alert_history("churn-drift")
    [retrain] = automation_history("drift-retrain", store=store)
    assert retrain["status"] == "finished", retrain["error"]
    assert retrain["payload"]["incident"] == incident.id
    assert store.models.get_version(parse_ref("churn-drift-retrained")).run_id
