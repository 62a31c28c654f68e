"""Counting values against a training profile: bins, out-of-range, missing, unseen categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kernel_magics.core.monitoring.counts import (
    LATENCY_EDGES_MS,
    CategoryBins,
    NumericBins,
    ProfileBinning,
    latency_counts,
    latency_quantile,
    merge_counts,
    prediction_bins,
    reference_rows,
)
from kernel_magics.core.registry.profile import profile_data


@pytest.fixture
def training():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, 1000),
            "charges": rng.normal(70.0, 20.0, 1000),
            "plan": rng.choice(["basic", "pro", "team"], 1000, p=[0.6, 0.3, 0.1]),
        }
    )


def test_numeric_values_land_in_the_profiles_bins_like_numpy_histogram(training):
    # Given the profile of the training frame
    profile = profile_data(training)
    edges = profile["features"]["charges"]["histogram"]["edges"]
    binning = ProfileBinning.build(profile, ["tenure", "charges", "plan"], None)
    live = np.random.default_rng(1).normal(70.0, 20.0, 500)
    live[:3] = [edges[0] - 1, edges[-1] + 1, np.nan]
    frame = pd.DataFrame({"tenure": np.arange(500) % 72, "charges": live, "plan": "pro"})
    # When the rows are counted as a server sees them (row-major lists)
    counts = binning.new_counts()
    counts.add(frame.to_numpy(dtype=object).tolist())
    charges = counts.features()["charges"]
    # Then the in-range values match numpy's histogram, the rest are counted apart
    inside = live[(live >= edges[0]) & (live <= edges[-1])]
    assert charges["bins"] == np.histogram(inside, bins=edges)[0].tolist()
    below, above = int((live < edges[0]).sum()), int((live > edges[-1]).sum())
    assert below >= 1 and above >= 1
    assert (charges["below"], charges["above"], charges["missing"]) == (below, above, 1)
    assert sum(charges["bins"]) + below + above + 1 == 500
    assert charges["edges"] == edges
    assert counts.rows == 500


def test_a_value_on_the_last_edge_is_in_the_last_bin():
    bins = NumericBins(np.array([0.0, 1.0, 2.0]))
    assert bins.as_dict(bins.count([0.0, 1.0, 2.0, 2.0000001, None]))["bins"] == [1, 2]


def test_a_new_category_is_counted_as_unseen_and_named(training):
    # Given a categorical feature the profile knows three values of
    profile = profile_data(training)
    binning = ProfileBinning.build(profile, ["tenure", "charges", "plan"], None)
    counts = binning.new_counts()
    # When live rows bring a category training never had, and a missing one
    rows = [[1, 50.0, "pro"], [2, 60.0, "enterprise"], [3, 70.0, "enterprise"], [4, 80.0, None]]
    counts.add(rows)
    plan = counts.features()["plan"]
    # Then
    assert plan["categories"] == {"basic": 0, "pro": 1, "team": 0}
    assert plan["unseen"] == 2 and plan["missing"] == 1
    assert plan["new"] == {"enterprise": 2}


def test_batches_add_up_to_counting_everything_at_once(training):
    profile = profile_data(training)
    binning = ProfileBinning.build(profile, ["tenure", "charges", "plan"], CategoryBins(("0", "1")))
    rows = training.to_numpy(dtype=object).tolist()
    preds = np.arange(len(rows)) % 2
    once, twice = binning.new_counts(), binning.new_counts()
    once.add(rows, preds)
    twice.add(rows[:300], preds[:300])
    twice.add(rows[300:], preds[300:])
    assert once.features() == twice.features()
    assert once.prediction() == twice.prediction()
    assert once.prediction()["categories"] == {"0": 500, "1": 500}
    # and two buckets' stored shapes merge into the same counts
    a, b = binning.new_counts(), binning.new_counts()
    a.add(rows[:300], preds[:300])
    b.add(rows[300:], preds[300:])
    for name in ("tenure", "charges", "plan"):
        merged = merge_counts(a.features()[name], b.features()[name])
        assert merged == once.features()[name]


def test_a_frame_counts_like_its_rows(training):
    profile = profile_data(training)
    binning = ProfileBinning.build(profile, list(training.columns), None)
    by_rows, by_columns = binning.new_counts(), binning.new_counts()
    by_rows.add(training.to_numpy(dtype=object).tolist())
    by_columns.add_columns(training)
    assert by_rows.features() == by_columns.features()


def test_columns_without_a_profile_are_not_counted(training):
    binning = ProfileBinning.build(profile_data(training), ["tenure", "extra"], None)
    counts = binning.new_counts()
    counts.add([[1, "x"], [2, "y"]])
    assert list(counts.features()) == ["tenure"]


def test_latency_histogram_and_its_quantiles():
    # 10 per decade: every latency is read back within one bin (a factor 10**0.1)
    latencies = np.r_[np.full(980, 3.0), np.full(20, 250.0)]
    counts = latency_counts(latencies)
    assert len(counts) == len(LATENCY_EDGES_MS) + 1 and sum(counts) == 1000
    assert latency_quantile(counts, 0.5) == pytest.approx(3.0, rel=10**0.1 - 1)
    assert latency_quantile(counts, 0.99) == pytest.approx(250.0, rel=10**0.1 - 1)
    assert latency_quantile([0] * len(counts), 0.5) is None
    extremes = latency_counts([0.01, 1e6])
    assert extremes[0] == 1 and extremes[-1] == 1


def test_regressor_prediction_bins_span_its_predictions_on_the_profile_quantiles(training):
    profile = profile_data(training)
    rows = reference_rows(profile, ["tenure", "charges", "plan"], ["long", "double", "string"])
    assert len(rows) == 13 and all(isinstance(r[0], int) and r[2] == "basic" for r in rows)
    assert rows[0][1] == profile["features"]["charges"]["min"]
    assert rows[-1][1] == profile["features"]["charges"]["max"]
    predictions = [2.0 * r[1] for r in rows]  # a model doubling the charges
    bins = prediction_bins(None, predictions)
    assert isinstance(bins, NumericBins)
    assert bins.edges[0] == min(predictions) and bins.edges[-1] == max(predictions)
    classes = prediction_bins(np.array([0, 1]), None)
    assert isinstance(classes, CategoryBins) and classes.known == ("0", "1")
