"""The issue's end to end, on real model servers, with injected scheduler time.

1. A new version of the ``churn`` dataset triggers the train template (``templates/``); the
   model test passes, the gate passes, the new version runs in shadow then canary while a
   client sends real requests, and is promoted: ``churn@production`` moves with no failed
   request.
2. The team changes the automation (as ``mlops apply`` of an edited ``mlops.yaml`` does): it
   now runs the team's notebook (``notebooks/train_churn.ipynb``), whose new range check makes
   the model raise on rows with charges above 500, tests it with the team's test file, and
   sends it straight to a 50 % canary. A second version of the dataset triggers it: the model
   tests pass (none of their rows has such charges) and so does the gate; the canary answers
   half of the same client's requests, the champion answers the ones it raises on, the server's
   ``errors.rate`` guard rolls the canary back, and the chain stops with that reason and a
   notification. The client sees zero failed requests, and the champion's prediction for every
   row the canary raised on.
3. Shifted traffic makes the drift alert open an incident, which triggers a retrain.

The scheduler runs on a manual clock. Guard periods of challengers are judged by the model
server on its own wall clock (a separate process), and the steps wait for them in real time,
so those periods are short, or end as soon as the guard trips.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from automation_helpers import make_scheduler, tick
from churn_data import churn_frame
from prediction_client import BAD_CHARGES, PredictClient, free_port, wait_for

import kernel_magics as mlops
from kernel_magics.core.automations.api import (
    add_automation,
    automation_history,
    update_automation,
)
from kernel_magics.core.registry import parse_ref
from kernel_magics.core.scheduler.clock import ManualClock
from kernel_magics.core.serving.challengers import challenger_status

pytestmark = pytest.mark.slow

TEMPLATE = Path(__file__).parents[2] / "templates" / "train.ipynb"
TEAM_NOTEBOOK = Path(__file__).parent / "notebooks" / "train_churn.ipynb"
TEAM_TESTS = Path(__file__).parent / "notebooks" / "churn_tests.yaml"
GUARDS = ["errors.rate < 0.01"]


def labelled(rows: int, seed: int, noise: float) -> pd.DataFrame:
    """Churn rows with a ``target`` column, a share ``noise`` of the labels flipped."""
    frame, target = churn_frame(rows, seed)
    flip = np.random.default_rng(seed + 100).random(rows) < noise
    return frame.assign(target=np.where(flip, 1 - target, target))


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
    client = PredictClient(dep.url, bad_every=9, pause=0.01)
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
    assert client.failures == [] and {"1", "2"} <= set(client.versions)

    # When: the team changes the automation, as `mlops apply` of an edited mlops.yaml does: its
    # own notebook, whose new range check makes the model raise on charges above 500, its test
    # file, and straight to a 50 % canary in front of the clients (the shadow stage would catch
    # the errors too, with the champion answering anyway). Then a second dataset version comes.
    guard_notice = f"command:{inbox.command}"
    update_automation({"name": "retrain", "trigger": {"dataset": "churn"}, "steps": [
        {"run_notebook": {"notebook": str(TEAM_NOTEBOOK), "parameters": {
            "data": "${dataset_ref}", "model_name": "churn", "max_charges": BAD_CHARGES}}},
        {"test": {"holdout": "churn-holdout@1", "conditions": ["accuracy >= 0.8"],
                  "test_file": str(TEAM_TESTS), "latency_budget_ms": 500, "allow_pickle": True}},
        {"promote": {"to": "candidate", "better_than": "production", "metric": "accuracy"}},
        # The step ends as soon as the server's guard trips (on the server's wall clock); the
        # 60 s are what a canary that never trips would take before it is promoted.
        {"deploy_challenger": {"mode": "canary", "share": 0.5, "guards": GUARDS, "for": 60.0,
                               "allow_pickle": True, "notify": [guard_notice]}},
        {"promote_challenger": {}},
        inbox.step("retrained"),
    ]}, store=store, now=clock.now())  # fmt: skip
    answered_before = len(client.answers)
    with mlops.start_run():
        mlops.log_dataset(labelled(600, 3, noise=0.0), name="churn")
    clock.advance(5)
    tick(scheduler)
    time.sleep(0.5)  # requests in flight when the guard tripped are answered by now
    rolled_back_at = len(client.answers)

    # Then: trained, tested and gated; the canary answered clients until its guard tripped
    second, first = automation_history("retrain", store=store)
    assert (first["event_key"], second["event_key"]) == ("dataset:churn@1", "dataset:churn@2")
    status = challenger_status("churn@production")
    record = status.challenger
    assert (record.challenger_version, record.mode, record.status) == (3, "canary", "rolled_back")
    assert record.guard_state == "broken"
    assert record.reason.startswith("guard errors.rate < 0.01 broke (")
    reason = f"A guard rolled back canary 50% churn/3 in churn@production: {record.reason}"
    assert second["status"] == "failed"
    assert second["error"] == f"Step 4 (deploy_challenger) failed: {reason}"
    parent = store.runs.get(second["run_id"])
    assert (parent.status, parent.error) == ("failed", second["error"])
    page = store.search_runs(parent_run_ids=[parent.id])
    steps = sorted((store.runs.get(i) for i in page.run_ids), key=lambda r: r.name)
    # the chain stopped at the canary: promote_challenger and notify did not run
    assert [(r.name, r.status) for r in steps] == [
        ("1. run_notebook", "finished"), ("2. test", "finished"), ("3. promote", "finished"),
        ("4. deploy_challenger", "failed")]  # fmt: skip
    assert steps[0].params["data"] == "churn@2"
    results = [r.tags.get("mlops.automation.result", "") for r in steps]
    assert "registered churn/3" in results[0]
    # the holdout, signature and latency checks, and the test file's invariance and 3 cases
    assert "tests of churn/3 passed: 7 passed, 0 skipped" in results[1]
    assert "churn@candidate -> churn/3" in results[2]
    assert steps[3].error == reason  # the failed step's run says why
    assert status.stats.challenger_errors > 0  # the canary raised on real requests
    # The server notifies after it recorded the rollback, which ended the step: wait for it.
    wait_for(lambda: any(m.get("event") == "challenger_rolled_back" for m in inbox.messages),
             "the guard's notification")  # fmt: skip
    [notice] = [m for m in inbox.messages if m.get("event") == "challenger_rolled_back"]
    assert (notice["version"], notice["mode"]) == ("churn/3", "canary")
    assert "errors.rate < 0.01" in notice["broken"]
    assert [m["model"] for m in inbox.messages if m.get("event") == "automation"] == ["churn/2"]

    # Then: zero failed client requests; every row the canary raised on has the champion's
    # answer; after the rollback the champion answers everything, and production never moved
    assert client.failures == []
    during = client.versions[answered_before:rolled_back_at]
    assert "3" in during  # the canary really answered clients
    champion = mlops.load_model("churn/2")
    raising = client.raising_rows(answered_before)
    assert raising and {a.version for a in raising} == {"2"}
    rows = pd.DataFrame([a.row for a in raising])
    assert [p for a in raising for p in a.predictions] == champion.predict(rows).tolist()
    wait_for(lambda: len(client.answers) >= rolled_back_at + 20, "answers after the rollback")
    assert set(client.versions[rolled_back_at:]) == {"2"}
    assert store.models.get_version(parse_ref("churn@production")).version == 2
    health = httpx.get(f"{dep.url}/health").json()
    assert (health["version"], health["challenger"]) == (2, None)
    [live] = store.deployments.find("churn", "production", live_only=True)
    assert live.version == 2
    client.finish()

    # When: traffic shifts; the drift alert opens an incident, which triggers a retrain
    mlops.add_alert("churn-drift", "churn@production", "drift.share > 0.3", window="10m")
    add_automation({"name": "drift-retrain", "trigger": {"alert": "churn-drift"}, "steps": [
        {"run_notebook": {"notebook": str(TEMPLATE), "parameters": {
            "data": "churn@latest", "model_name": "churn-drift-retrained",
            "n_estimators": 10, "estimator": "random_forest"}}},
    ]}, store=store, now=clock.now())  # fmt: skip
    shifted = PredictClient(dep.url, shift=100.0, pause=0.01)
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
