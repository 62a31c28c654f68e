"""The model server's collector with injected time: buckets close on time, nothing is lost."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from churn_data import churn_frame

import kernel_magics as mlops
from kernel_magics.core.monitoring.collector import (
    MonitoringCollector,
    binning_for,
    settings_from_env,
)
from kernel_magics.core.registry import load_model_version
from kernel_magics.core.serving.scoring import Scorer
from kernel_magics.errors import ValidationError

T0 = 1_800_000_000.0  # a multiple of 60


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def scorer(store):
    from sklearn.linear_model import LogisticRegression

    frame, target = churn_frame(500)
    mlops.log_model(LogisticRegression(max_iter=500).fit(frame, target), "churn",
                    input_example=frame, alias="production")  # fmt: skip
    return Scorer(load_model_version("churn@production"))


def collector(store, scorer, clock, **kwargs):
    return MonitoringCollector(store, scorer.version.id, binning_for(scorer), clock=clock,
                               score=scorer.positive_scores, start_thread=False, **kwargs)  # fmt: skip


def send(coll, clock, scorer, at, rows, rid, status=200, latency_ms=2.0):
    clock.now = at
    if status != 200:
        coll.observe(rid, latency_ms, status)
        return None
    predictions = scorer.predict_rows(rows)
    coll.observe(rid, latency_ms, status, rows, predictions)
    return predictions


def test_a_bucket_is_written_when_it_closes_and_the_open_one_on_close(store, scorer):
    # Given a collector with 60 s buckets and requests in two buckets
    clock = Clock(T0)
    coll = collector(store, scorer, clock)
    frame, _ = churn_frame(30, seed=1)
    rows = frame.to_numpy(dtype=object).tolist()
    for i, row in enumerate(rows[:20]):
        send(coll, clock, scorer, T0 + i, [row], f"a{i}")
    send(coll, clock, scorer, T0 + 30, rows[20:25], "multi")  # one request, five rows
    send(coll, clock, scorer, T0 + 31, rows[:1], "bad", status=422)
    send(coll, clock, scorer, T0 + 61, rows[25:], "b0")
    # When it flushes after the first bucket ended
    clock.now = T0 + 62
    coll.flush()
    # Then only the closed bucket is in the store, with every request counted
    (first,) = store.monitoring.buckets("churn")
    assert (first.start, first.seconds, first.source) == (T0, 60.0, "serving")
    assert (first.requests, first.errors, first.rows) == (22, 1, 25)
    assert sum(first.latency) == 22
    tenure = first.features["tenure"]
    assert sum(tenure["bins"]) + tenure["below"] + tenure["above"] + tenure["missing"] == 25
    assert set(first.features) == {"tenure", "charges", "support_calls"}
    assert sum(first.prediction["categories"].values()) == 25
    # and the kept predictions of both buckets are written already, by request id and row
    kept = store.monitoring.predictions("churn", ["a0", "multi", "b0", "bad"])
    assert sorted({(k.request_id, k.row) for k in kept}) == [
        ("a0", 0), ("b0", 0), ("b0", 1), ("b0", 2), ("b0", 3), ("b0", 4),
        ("multi", 0), ("multi", 1), ("multi", 2), ("multi", 3), ("multi", 4),
    ]  # fmt: skip
    proba = scorer.model.predict_proba(frame.iloc[20:25])[:, 1]
    multi = sorted((k for k in kept if k.request_id == "multi"), key=lambda k: k.row)
    assert [k.score for k in multi] == pytest.approx(proba.tolist())
    assert [k.prediction for k in multi] == scorer.model.predict(frame.iloc[20:25]).tolist()
    # When it closes (server shutdown), the open bucket is written too
    coll.close()
    first, second = store.monitoring.buckets("churn")
    assert (second.start, second.requests, second.rows) == (T0 + 60, 1, 5)


def test_buckets_of_a_restarted_server_add_up(store, scorer):
    # Given a server stopped mid-bucket and its replacement in the same bucket
    clock = Clock(T0)
    frame, _ = churn_frame(10, seed=2)
    rows = frame.to_numpy(dtype=object).tolist()
    old = collector(store, scorer, clock)
    for i in range(4):
        send(old, clock, scorer, T0 + i, [rows[i]], f"old{i}")
    old.close()
    new = collector(store, scorer, clock)
    for i in range(4, 10):
        send(new, clock, scorer, T0 + 10 + i, [rows[i]], f"new{i}")
    new.close()
    # Then two rows share the bucket's start and add up to every request
    buckets = store.monitoring.buckets("churn@production")
    assert [b.start for b in buckets] == [T0, T0]
    assert sum(b.requests for b in buckets) == 10


def test_requests_from_many_threads_are_all_counted(store, scorer):
    # Given eight threads observing while the collector flushes
    clock = Clock(T0 + 5)
    coll = collector(store, scorer, clock)
    row = churn_frame(1, seed=3)[0].to_numpy(dtype=object).tolist()
    prediction = scorer.predict_rows(row)

    def worker(k: int) -> None:
        for i in range(500):
            coll.observe(f"t{k}-{i}", 1.0, 200, row, prediction)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        coll.flush()
    for t in threads:
        t.join()
    coll.close()
    # Then
    (bucket,) = store.monitoring.buckets("churn")
    assert bucket.requests == bucket.rows == 4000 and coll.dropped == 0
    assert coll.predictions_written == 4000


def test_a_store_that_fails_keeps_the_bucket_for_the_next_flush(store, scorer, monkeypatch):
    clock = Clock(T0)
    coll = collector(store, scorer, clock)
    row = churn_frame(1, seed=4)[0].to_numpy(dtype=object).tolist()
    send(coll, clock, scorer, T0 + 1, row, "x")
    clock.now = T0 + 61
    real = store.monitoring.add_bucket

    def down(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.monitoring, "add_bucket", down)
    coll.flush()
    monkeypatch.setattr(store.monitoring, "add_bucket", real)
    assert store.monitoring.buckets("churn") == []
    coll.flush()
    assert [b.requests for b in store.monitoring.buckets("churn")] == [1]


def test_regressor_predictions_are_binned_over_its_reference_range(store):
    from sklearn.linear_model import LinearRegression

    frame, _ = churn_frame(300)
    target = frame["charges"] * 2.0
    mlops.log_model(LinearRegression().fit(frame, target), "spend", input_example=frame)
    scorer = Scorer(load_model_version("spend"))
    binning = binning_for(scorer)
    assert binning.prediction is not None and binning.prediction.kind == "numeric"
    edges = binning.prediction.edges
    assert edges[0] == pytest.approx(2.0 * frame["charges"].min(), rel=0.05)
    assert edges[-1] == pytest.approx(2.0 * frame["charges"].max(), rel=0.05)
    counts = binning.new_counts()
    live = pd.DataFrame(frame)
    counts.add(live.to_numpy(dtype=object).tolist(), scorer.predict_rows(
        live.to_numpy(dtype=object).tolist()))  # fmt: skip
    pred = counts.prediction()
    assert sum(pred["bins"]) + pred["below"] + pred["above"] == 300
    assert np.isclose(pred["edges"], edges).all()


def test_settings_from_the_environment():
    assert settings_from_env({}) == (True, 60.0)
    assert settings_from_env({"MLOPS_MONITORING": "off", "MLOPS_MONITORING_BUCKET_S": "5"}) == (
        False,
        5.0,
    )
    with pytest.raises(ValidationError, match="positive number of seconds"):
        settings_from_env({"MLOPS_MONITORING_BUCKET_S": "soon"})
