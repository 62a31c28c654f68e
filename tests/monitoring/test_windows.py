"""Window summaries over real buckets, predictions and labels written through store.monitoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from churn_data import churn_frame
from monitor_fixtures import register, write_bucket

from kernel_magics.core.monitoring.windows import (
    METRICS,
    WindowSummary,
    parse_duration,
    report,
    summarize,
)
from kernel_magics.errors import ValidationError

HOUR = 3600.0
T0 = 1_800_000_000.0  # on the hour: 1.8e9 is a multiple of 3600


def test_a_shifted_window_is_flagged_and_the_unshifted_one_is_not(store):
    # Given an hour of training-like traffic, then an hour where charges moved by one sigma
    model, version = register(store)
    calm, _ = churn_frame(1500, seed=1)
    shifted, _ = churn_frame(1500, seed=2)
    shifted["charges"] += 20.0  # the training std of charges is 20
    write_bucket(store, model, version, calm, T0 + 60, latency_ms=4.0)
    write_bucket(store, model, version, shifted, T0 + HOUR + 60, errors=15, latency_ms=40.0)
    # When
    first, second = summarize(
        store, "churn@production", since=T0, until=T0 + 2 * HOUR, window_s=HOUR
    )
    # Then
    assert set(first.values) == set(METRICS) == set(second.values)
    assert (first.start, first.end, second.start) == (T0, T0 + HOUR, T0 + HOUR)
    assert first.enough_data and first.drifted_features == []
    assert first.values["drift.share"] == 0.0
    assert second.drifted_features == ["charges"]
    assert second.features["charges"].method == "psi"
    assert second.values["drift.share"] == pytest.approx(1 / 3)
    assert second.values["requests"] == 1515
    assert second.values["errors.rate"] == pytest.approx(15 / 1515)
    # latencies are read back from the histogram, within one log-spaced bin (10 per decade)
    assert first.values["latency.p50_ms"] == pytest.approx(4.0, rel=0.26)
    assert second.values["latency.p99_ms"] == pytest.approx(40.0, rel=0.26)
    assert first.values["accuracy"] is None and first.values["labelled_rows"] == 0


def test_buckets_of_one_window_add_up(store):
    # Given two servers' buckets in the same hour
    model, version = register(store)
    a, _ = churn_frame(300, seed=3)
    b, _ = churn_frame(200, seed=4)
    write_bucket(store, model, version, a, T0 + 60)
    write_bucket(store, model, version, b, T0 + 60)
    (window,) = summarize(store, "churn/1", since=T0, until=T0 + HOUR, window_s=HOUR)
    assert window.rows == 500 and window.values["requests"] == 500
    assert (
        sum(window.counts["charges"]["bins"])
        + window.counts["charges"]["above"]
        + window.counts["charges"]["below"]
        == 500
    )


def test_too_few_rows_says_not_enough_data(store):
    # Given 40 rows in a window, below the default minimum of 100, even with a big shift
    model, version = register(store)
    few, _ = churn_frame(40, seed=5)
    few["charges"] += 100.0
    write_bucket(store, model, version, few, T0 + 60)
    (window,) = summarize(store, "churn", since=T0, until=T0 + HOUR, window_s=HOUR)
    # Then no drift verdict at all
    assert not window.enough_data
    assert window.values["drift.share"] is None
    assert {f.status for f in window.features.values()} == {"not enough data"}
    assert window.values["requests"] == 40  # traffic is still reported


def test_min_rows_is_set_per_model_version(store):
    model, version = register(store, tags={"monitoring.min_rows": "20"})
    few, _ = churn_frame(40, seed=5)
    few["charges"] += 100.0
    write_bucket(store, model, version, few, T0 + 60)
    result = report(store, "churn@production", since=T0, until=T0 + HOUR, window_s=HOUR)
    assert result.config.min_rows == 20
    assert result.windows[0].enough_data
    assert "charges" in result.windows[0].drifted_features


def test_accuracy_from_labels_joined_by_request_id(store):
    # Given 200 kept predictions in the second window and labels for 150 of them
    model, version = register(store)
    frame, target = churn_frame(200, seed=6)
    predictions = write_bucket(store, model, version, frame, T0 + HOUR + 60)
    store.monitoring.add_predictions([
        {"model_version_id": version.id, "deployment_id": None, "request_id": f"r{i}", "row": 0,
         "at": T0 + HOUR + 60 + i, "prediction": int(p), "score": None}
        for i, p in enumerate(predictions)
    ])  # fmt: skip
    labels = [(f"r{i}", 0, int(target.iloc[i])) for i in range(150)]
    assert store.monitoring.add_labels("churn", labels) == (150, 0)
    # When
    first, second = summarize(
        store, "churn@production", since=T0, until=T0 + 2 * HOUR, window_s=HOUR
    )
    # Then the second window's accuracy is the share of the 150 labelled rows predicted right
    expected = float(np.mean(predictions[:150] == target.to_numpy()[:150]))
    assert second.values["labelled_rows"] == 150
    assert second.values["accuracy"] == pytest.approx(expected)
    assert 0 <= second.values["f1"] <= 1 and second.values["rmse"] is None
    assert first.values["labelled_rows"] == 0 and first.values["accuracy"] is None


def test_prediction_drift_against_the_first_window(store):
    # Given a first hour of ordinary traffic, then an hour of customers who all churn
    model, version = register(store)
    calm, _ = churn_frame(1000, seed=7)
    churning, _ = churn_frame(1000, seed=8)
    churning["support_calls"] = 9
    write_bucket(store, model, version, calm, T0 + 60)
    write_bucket(store, model, version, churning, T0 + HOUR + 60)
    first, second = summarize(store, "churn", since=T0, until=T0 + 2 * HOUR, window_s=HOUR)
    assert first.prediction is not None and first.prediction.drifted is False
    assert second.prediction is not None and second.prediction.drifted is True
    assert second.values["drift.prediction"] > 0.2


def test_windows_are_aligned_and_empty_ones_kept(store):
    register(store)
    windows = summarize(store, "churn", since=T0 + 1800, until=T0 + 3 * HOUR, window_s=HOUR)
    assert [w.start for w in windows] == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert all(isinstance(w, WindowSummary) and w.rows == 0 for w in windows)
    assert windows[0].values["requests"] == 0 and windows[0].values["errors.rate"] is None


def test_bad_periods_are_refused_before_reading(store):
    register(store)
    with pytest.raises(ValidationError, match="too many"):
        summarize(store, "churn", since=0, until=T0, window_s=60)
    with pytest.raises(ValidationError, match="empty"):
        summarize(store, "churn", since=T0, until=T0, window_s=60)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("7d", 604800), ("90", 90)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["7 days", "h", "-1h", "0"])
def test_bad_durations(text):
    with pytest.raises(ValidationError, match="duration"):
        parse_duration(text)


def test_summary_as_json(store):
    model, version = register(store)
    frame, _ = churn_frame(300, seed=9)
    write_bucket(store, model, version, frame, T0 + 60)
    result = report(store, "churn", since=T0, until=T0 + HOUR, window_s=HOUR)
    data = result.to_dict()
    assert data["version"] == 1 and data["has_profile"] is True
    window = data["windows"][0]
    assert set(window["values"]) == set(METRICS)
    assert window["features"]["tenure"]["status"] in ("ok", "drift")
    pd.Series(window["values"])  # plain JSON scalars
