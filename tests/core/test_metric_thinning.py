"""Metric series thinned inside the query: what a chart of a long series gets."""

from __future__ import annotations

import pytest


def log(store, series: dict[str, list[tuple[int, float]]]) -> dict[str, str]:
    """Runs with one ``loss`` series each, given as ``{name: [(step, value), ...]}``."""
    exp = store.experiments.get_or_create("thin")
    ids = {}
    for name, points in series.items():
        run_id = store.runs.create(exp, name=name, source="api")
        with store.db.write() as conn:
            store.runs.write_metrics(
                conn, [(run_id, "loss", step, 1000.0 + i, value) for i, (step, value) in
                       enumerate(points)]
            )  # fmt: skip
        ids[name] = run_id
    return ids


def test_a_long_series_keeps_every_nth_step_and_the_ends(any_store):
    # Given a run that logged 1,000 steps and one that logged every 10th step up to 9,990
    ids = log(any_store, {"dense": [(s, s / 1000) for s in range(1000)],
                          "sparse": [(s, s / 10) for s in range(0, 10000, 10)]})  # fmt: skip
    # When both are read for a 300-point chart
    curves = any_store.runs.metric_histories(list(ids.values()), "loss", max_points=300)
    dense, sparse = curves[ids["dense"]], curves[ids["sparse"]]
    # Then each has at most 300 points, evenly spaced, its first and last step included
    assert dense["steps"] == [*range(0, 1000, 4), 999]
    assert dense["values"] == [s / 1000 for s in dense["steps"]]
    assert sparse["steps"] == [*range(0, 10000, 40), 9990]
    assert sparse["values"] == [pytest.approx(s / 10) for s in sparse["steps"]]
    # And the single-series read answers the same points, with their timestamps
    one = any_store.runs.metric_history(ids["sparse"], "loss", max_points=300)
    assert [p["step"] for p in one] == sparse["steps"]
    assert one[1]["timestamp"] == 1004.0


def test_irregular_steps_are_still_thinned_to_the_bound(any_store):
    # Given steps no stride fits (squares) and a series with a step logged twice
    ids = log(any_store, {"squares": [(s * s, float(s)) for s in range(500)],
                          "repeats": [(s // 2, float(s)) for s in range(800)]})  # fmt: skip
    # When
    curves = any_store.runs.metric_histories(list(ids.values()), "loss", max_points=100)
    # Then both come back with at most 100 points in step order, ends included
    for name, last_step in (("squares", 499 * 499), ("repeats", 399)):
        steps = curves[ids[name]]["steps"]
        assert 50 <= len(steps) <= 100, name
        assert steps == sorted(steps)
        assert steps[0] == 0 and steps[-1] == last_step


def test_short_series_and_no_limit_come_back_whole(any_store):
    ids = log(any_store, {"short": [(s, float(s)) for s in range(5)],
                          "long": [(s, float(s)) for s in range(50)]})  # fmt: skip
    short = any_store.runs.metric_histories([ids["short"]], "loss", max_points=10)
    assert short[ids["short"]]["steps"] == [0, 1, 2, 3, 4]
    whole = any_store.runs.metric_histories([ids["long"]], "loss")
    assert whole[ids["long"]]["steps"] == list(range(50))
    assert any_store.runs.metric_history(ids["long"], "missing", max_points=10) == []
