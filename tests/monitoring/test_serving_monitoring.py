"""Monitoring under real model servers (uvicorn processes) and real HTTP requests.

Buckets are 2 s here (``MLOPS_MONITORING_BUCKET_S``) so that tests see several close.
"""

from __future__ import annotations

import math
import os
import re
import signal
import time

import httpx
import numpy as np
import pandas as pd
import pytest

import kernel_magics as mlops
from kernel_magics.core.store.liveness import pid_alive

pytestmark = pytest.mark.slow

BUCKET_S = 2.0
PLANS = ["basic", "pro", "team"]


def training(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, rows),
            "charges": rng.normal(70.0, 20.0, rows),
            "plan": rng.choice(PLANS, rows),
        }
    )
    target = ((frame["tenure"] < 12) | (frame["plan"] == "basic")).astype(int)
    return frame, target


@pytest.fixture
def deployed(store, monkeypatch):
    """churn@production (a pipeline with a categorical column), served with 2 s buckets."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    monkeypatch.setenv("MLOPS_MONITORING_BUCKET_S", str(BUCKET_S))
    frame, target = training()
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            (StandardScaler(), ["tenure", "charges"]),
        ),
        LogisticRegression(max_iter=500),
    ).fit(frame, target)
    mlops.log_model(model, "churn", input_example=frame, alias="production")
    yield model
    from kernel_magics.core.serving.deployments import get_backend, list_deployments

    backend = get_backend()
    for dep in list_deployments():
        backend.stop(dep, reason="left running by a test")


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in frame.to_dict("records")]  # fmt: skip


def test_every_request_is_counted_in_buckets_and_labels_join_by_request_id(store, deployed):
    # Given a running server
    dep = mlops.deploy("churn@production", sample_rate=0.0)
    live, target = training(60, seed=1)
    live.loc[:4, "plan"] = "enterprise"  # a plan training never saw, in five rows
    sent_rows, ids = 0, []
    with httpx.Client(base_url=dep.url, timeout=10) as client:
        # When clients send single rows with and without their own request id, batches, a
        # malformed id and an invalid body
        for i, rec in enumerate(records(live.iloc[:40])):
            headers = {"X-Request-Id": f"client-{i}"} if i % 2 else {}
            resp = client.post("/predict", json=[rec], headers=headers)
            assert resp.status_code == 200
            rid = resp.headers["x-request-id"]
            if i % 2:
                assert rid == f"client-{i}"  # honoured
            else:
                assert re.fullmatch(r"[0-9a-f]{32}", rid)  # a new uuid4 hex
            ids.append(rid)
            sent_rows += 1
        batch = client.post("/invocations", json={"dataframe_records": records(live.iloc[40:])},
                            headers={"X-Request-Id": "batch-1"})  # fmt: skip
        assert batch.status_code == 200 and batch.headers["x-request-id"] == "batch-1"
        sent_rows += 20
        evil = client.post("/predict", json=[records(live.iloc[:1])[0]],
                           headers={"X-Request-Id": "a\xe9:1<script>".encode("latin-1")})  # fmt: skip
        assert evil.status_code == 200
        assert re.fullmatch(r"[0-9a-f]{32}", evil.headers["x-request-id"])  # replaced, not echoed
        sent_rows += 1
        bad = client.post("/predict", json=[{"tenure": 3}])
        assert bad.status_code == 422 and "x-request-id" in bad.headers
        assert "x-request-id" in client.get("/health").headers
        assert "x-request-id" in client.get("/metadata").headers
        assert "mlops_monitoring_dropped_total 0.0" in client.get("/metrics").text
        # When labels come back for the single rows, three batch rows and two unknown ids
        label_ids = [*ids, "batch-1", "batch-1:1", "batch-1:19", "nobody", "batch-1:20"]
        labels = [*target.iloc[:40], target.iloc[40], target.iloc[41], target.iloc[59], 1, 0]
        fb = client.post("/feedback", json={"ids": label_ids, "labels": [int(v) for v in labels]})
        rows_fb = client.post("/feedback", json={"rows": [{"id": ids[0], "label": 1}]})
        refused = client.post("/feedback", json={"ids": ["x"]})
    # Then /feedback answers what matched (the server writes queued predictions first)
    assert fb.status_code == 200, fb.text
    assert fb.json() == {"received": 45, "matched": 43, "unknown": 2,
                         "unknown_ids": ["nobody", "batch-1:20"]}  # fmt: skip
    assert rows_fb.json()["matched"] == 1
    assert refused.status_code == 400 and '{"ids": [...], "labels": [...]}' in refused.json()[
        "message"]  # fmt: skip
    # When the server stops, its open bucket is written
    mlops.stop_deployment(dep.id)
    buckets = store.monitoring.buckets("churn", deployment_id=dep.id)
    # Then every request is in some bucket, with its rows, features and predictions counted
    assert sum(b.requests for b in buckets) == 42 + 1  # 41 predictions + one refused body
    assert sum(b.errors for b in buckets) == 1
    assert sum(b.rows for b in buckets) == sent_rows == 61
    assert all(b.start % BUCKET_S == 0 and b.seconds == BUCKET_S for b in buckets)
    plan = [b.features["plan"] for b in buckets]
    assert sum(p["unseen"] for p in plan) == 5 + 1  # the 'evil' request resent row 0
    assert {k for p in plan for k in p["new"]} == {"enterprise"}
    assert sum(sum(p["categories"].values()) for p in plan) == 61 - 6
    assert sum(sum(b.prediction["categories"].values()) for b in buckets) == 61
    charges = [b.features["charges"] for b in buckets]
    assert sum(sum(c["bins"]) + c["below"] + c["above"] + c["missing"] for c in charges) == 61
    # and the labels joined give the model's own predictions and scores for those rows
    joined = {(j.request_id, j.row): j for j in store.monitoring.labelled("churn@production")}
    assert len(joined) == 43
    expected = deployed.predict(live.iloc[[40, 41, 59]]).tolist()
    assert [joined[("batch-1", r)].prediction for r in (0, 1, 19)] == expected
    proba = deployed.predict_proba(live.iloc[[41]])[:, 1]
    assert joined[("batch-1", 1)].score == pytest.approx(proba[0])
    assert joined[(ids[0], 0)].label == 1  # the later label replaced the first one


def test_a_crash_loses_at_most_the_open_bucket_and_a_restart_carries_on(store, deployed):
    # Given a server that gets a burst of requests in the middle of each 2 s bucket
    dep = mlops.deploy("churn@production", sample_rate=0.0)
    rec = records(training(1, seed=2)[0])
    sent: dict[float, int] = {}

    def burst(client: httpx.Client, n: int) -> None:
        now = time.time()
        start = math.floor(now / BUCKET_S) * BUCKET_S
        if now - start > 0.4 * BUCKET_S:  # wait for the next bucket's start
            start += BUCKET_S
        if sent and start <= max(sent):  # one burst per bucket
            start = max(sent) + BUCKET_S
        time.sleep(max(0.0, start + 0.2 - time.time()))
        for _ in range(n):
            assert client.post("/predict", json=rec).status_code == 200
        assert time.time() < start + BUCKET_S - 0.3, "the machine is too slow for 2 s buckets"
        sent[start] = sent.get(start, 0) + n

    with httpx.Client(base_url=dep.url, timeout=10) as client:
        for n in (5, 7, 9):
            burst(client, n)
    # When it is killed in the middle of the third bucket (a crash: no chance to flush)
    os.kill(dep.pid, signal.SIGKILL)
    deadline = time.time() + 10
    while pid_alive(dep.pid) and time.time() < deadline:
        time.sleep(0.05)
    first, second, third = sorted(sent)
    # Then the closed buckets are all in the store, exactly; only the open one is lost
    written = {b.start: b.requests for b in store.monitoring.buckets("churn")}
    assert written == {first: 5, second: 7}
    # When it is started again and stopped normally
    dep2 = mlops.deploy("churn@production", sample_rate=0.0)
    assert dep2.pid != dep.pid
    with httpx.Client(base_url=dep2.url, timeout=10) as client:
        burst(client, 4)
        burst(client, 3)
    mlops.stop_deployment(dep2.id)
    # Then nothing of the second server is lost, the open bucket included
    restarted = {b.start: b.requests for b in store.monitoring.buckets("churn",
                                                                         deployment_id=dep2.id)}  # fmt: skip
    assert sum(restarted.values()) == 7 and len(restarted) == 2
    assert third not in written


def test_monitoring_off_keeps_nothing_and_feedback_says_so(store, deployed, monkeypatch):
    monkeypatch.setenv("MLOPS_MONITORING", "off")
    dep = mlops.deploy("churn@production", sample_rate=0.0)
    rec = records(training(1, seed=3)[0])
    resp = httpx.post(f"{dep.url}/predict", json=rec, headers={"X-Request-Id": "r1"})
    assert resp.status_code == 200 and resp.headers["x-request-id"] == "r1"
    fb = httpx.post(f"{dep.url}/feedback", json={"ids": ["r1"], "labels": [1]})
    assert fb.status_code == 409 and "monitoring is off" in fb.json()["message"]
    mlops.stop_deployment(dep.id)
    assert store.monitoring.buckets("churn") == []
