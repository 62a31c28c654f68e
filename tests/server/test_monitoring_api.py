"""``GET /mlops/api/deployments/{id}/monitoring``: what the panel's Monitoring section shows.

The store holds real buckets written through ``store.monitoring`` (what the model server writes
when a bucket closes), a deployment row of the version that scored them and alert rules, so the
route's windows, drift verdicts and incidents are checked against data a user would have.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from churn_data import churn_frame
from monitoring.monitor_fixtures import register, write_bucket
from tornado.httpclient import HTTPClientError

HOUR = 3600.0


async def call(jp_fetch, method: str, *parts: str, headers=None, body=None, **params):
    """One request; returns ``(status, json)`` whether it succeeded or not."""
    kwargs = {"method": method, "params": params or None, "headers": headers}
    if method == "POST":
        kwargs["body"] = json.dumps(body or {})
    try:
        response = await jp_fetch("mlops", "api", *parts, **kwargs)
    except HTTPClientError as exc:
        raw = exc.response.body if exc.response is not None else b""
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"message": raw.decode(errors="replace")}
    return response.code, json.loads(response.body)


def this_hour() -> float:
    """The current hour's start; waits out an hour's last 30 s so the request sees the same hour."""
    left = HOUR - time.time() % HOUR
    if left < 30:
        time.sleep(left + 0.5)
    return math.floor(time.time() / HOUR) * HOUR


@pytest.fixture
def monitored(store):
    """churn/1 deployed; a calm hour then an hour where charges moved by one training std."""
    model, version = register(store)
    hour = this_hour()
    calm, _ = churn_frame(1500, seed=1)
    shifted, _ = churn_frame(1500, seed=2)
    shifted["charges"] += 20.0  # the training std of charges is 20
    write_bucket(store, model, version, calm, hour - 2 * HOUR + 60, latency_ms=4.0)
    write_bucket(store, model, version, shifted, hour - HOUR + 60, errors=15, latency_ms=40.0)
    dep = store.deployments.create(version.id, "production", "127.0.0.1", 6011, status="stopped")
    return {"store": store, "deployment": dep, "hour": hour}


async def test_windows_and_the_latest_drift_verdicts(jp_fetch, monitored):
    # When the panel asks for the last three hours by the hour
    status, data = await call(jp_fetch, "GET", "deployments", str(monitored["deployment"]),
                              "monitoring", since="3h", window="1h")  # fmt: skip
    # Then one window per hour, aligned, the two with data holding the monitor's values
    assert status == 200, data
    hour = monitored["hour"]
    assert data["model"] == "churn/1" and data["version"] == 1 and data["has_profile"]
    assert data["window_s"] == HOUR and data["min_rows"] == 100
    starts = [w["start"] for w in data["windows"]]
    assert starts == [hour - 3 * HOUR, hour - 2 * HOUR, hour - HOUR, hour]
    empty, calm, shifted, now = data["windows"]
    assert not empty["enough_data"] and "latency.p50_ms" not in empty["values"]
    assert calm["enough_data"] and calm["rows"] == 1500 and calm["values"]["drift.share"] == 0
    assert calm["values"]["latency.p50_ms"] == pytest.approx(4.0, rel=0.26)
    assert shifted["values"]["requests"] == 1515
    assert shifted["values"]["errors.rate"] == pytest.approx(15 / 1515)
    assert shifted["values"]["latency.p99_ms"] == pytest.approx(40.0, rel=0.26)
    assert "accuracy" not in shifted["values"]  # no labels yet: unknown, not zero
    assert not now["enough_data"]
    # And the drift is the shifted hour's: charges drifted, the others did not
    drift = data["drift"]
    assert drift["start"] == hour - HOUR and drift["rows"] == 1500
    assert drift["share"] == pytest.approx(1 / 3) and drift["drifted"] is False
    verdicts = {f["feature"]: f for f in drift["features"]}
    assert set(verdicts) == {"tenure", "charges", "support_calls"}
    charges = verdicts["charges"]
    assert charges["status"] == "drift" and charges["method"] == "psi"
    assert charges["score"] >= charges["threshold"] == 0.2
    assert [verdicts[n]["status"] for n in ("tenure", "support_calls")] == ["ok", "ok"]
    assert verdicts["tenure"]["bins"] is None  # shares only for what drifted
    # training vs live shares: each sums to one, and live mass moved to higher charges
    assert len(charges["bins"]) == len(charges["training_shares"]) == len(charges["live_shares"])
    assert sum(charges["training_shares"]) == pytest.approx(1)
    assert sum(charges["live_shares"]) == pytest.approx(1)
    assert charges["live_shares"][-1] > charges["training_shares"][-1]  # "> max" bin
    assert drift["prediction"] is None or drift["prediction"]["status"] in ("drift", "ok")


async def test_accuracy_per_window_from_labelled_predictions(jp_fetch, store):
    # Given a window of kept predictions, 150 of them labelled later
    model, version = register(store)
    hour = this_hour()
    frame, target = churn_frame(200, seed=6)
    predictions = write_bucket(store, model, version, frame, hour - HOUR + 60)
    store.monitoring.add_predictions([
        {"model_version_id": version.id, "deployment_id": None, "request_id": f"r{i}", "row": 0,
         "at": hour - HOUR + 60 + i, "prediction": int(p), "score": None}
        for i, p in enumerate(predictions)
    ])  # fmt: skip
    store.monitoring.add_labels("churn", [(f"r{i}", 0, int(target.iloc[i])) for i in range(150)])
    dep = store.deployments.create(version.id, None, "127.0.0.1", 6013, status="stopped")
    # When
    status, data = await call(jp_fetch, "GET", "deployments", str(dep), "monitoring",
                              since="2h", window="1h")  # fmt: skip
    # Then the labelled window has the share predicted right; the others have no accuracy
    assert status == 200, data
    labelled = next(w for w in data["windows"] if w["start"] == hour - HOUR)
    expected = float(np.mean(predictions[:150] == target.to_numpy()[:150]))
    assert labelled["values"]["accuracy"] == pytest.approx(expected)
    assert labelled["values"]["labelled_rows"] == 150
    assert all("accuracy" not in w["values"] for w in data["windows"] if w is not labelled)


async def test_not_enough_data_is_said_plainly(jp_fetch, store):
    # Given a deployment whose model has no traffic yet
    _, version = register(store)
    dep = store.deployments.create(version.id, None, "127.0.0.1", 6012, status="stopped")
    status, data = await call(jp_fetch, "GET", "deployments", str(dep), "monitoring")
    # Then 24 hourly windows (25 when not on the hour), none with enough data, no drift
    assert status == 200, data
    assert len(data["windows"]) in (24, 25)
    assert not any(w["enough_data"] for w in data["windows"])
    assert data["drift"] is None and data["alerts"] == []


async def test_alert_rules_of_the_model_with_their_open_incident(jp_fetch, monitored):
    # Given two rules on churn (one firing) and one on another model
    alerts = monitored["store"].alerts
    quality = alerts.create("quality", "churn@production", ["drift.share > 0.3"], HOUR, [])
    alerts.create("latency", "churn", ["latency.p99_ms > 100"], HOUR, [])
    alerts.create("other", "fraud@production", ["accuracy < 0.9"], HOUR, [])
    hour = monitored["hour"]
    alerts.fire(quality.id, hour, (hour - HOUR, hour), {"drift.share > 0.3": 1 / 3})
    # When
    status, data = await call(jp_fetch, "GET", "deployments", str(monitored["deployment"]),
                              "monitoring", since="2h")  # fmt: skip
    # Then the churn rules only, the firing one with its incident
    assert status == 200, data
    rules = {r["name"]: r for r in data["alerts"]}
    assert set(rules) == {"quality", "latency"}
    assert rules["latency"]["incident"] is None
    incident = rules["quality"]["incident"]
    assert incident["window_start"] == hour - HOUR
    assert incident["broken"] == {"drift.share > 0.3": pytest.approx(1 / 3)}
    assert rules["quality"]["conditions"] == ["drift.share > 0.3"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": "yesterday<script>"}, "since"),
        ({"window": "-1h"}, "window"),
        ({"window": "0m"}, "window"),
        ({"since": "7d", "window": "1s"}, "too many"),
        ({"sinse": "1h"}, "sinse"),
    ],
)
async def test_bad_input_is_400_naming_the_form_without_echo(jp_fetch, monitored, params, named):
    status, data = await call(jp_fetch, "GET", "deployments", str(monitored["deployment"]),
                              "monitoring", **params)  # fmt: skip
    assert status == 400, data
    assert named in data["message"]
    assert "<script>" not in data["message"] and "-1h" not in data["message"]
    if named in ("since", "window"):
        assert "e.g. 30m, 1h, 7d" in data["message"]


async def test_unknown_deployment_is_404_and_other_methods_405(jp_fetch, monitored):
    status, data = await call(jp_fetch, "GET", "deployments", "999", "monitoring")
    assert status == 404 and "999" in data["message"]
    status, _ = await call(jp_fetch, "POST", "deployments", str(monitored["deployment"]),
                           "monitoring")  # fmt: skip
    assert status == 405


async def test_no_token_is_403(jp_fetch, monitored):
    for headers in ({"Authorization": ""}, {"Authorization": "token no"}):
        status, _ = await call(jp_fetch, "GET", "deployments", str(monitored["deployment"]),
                               "monitoring", headers=headers)  # fmt: skip
        assert status == 403
