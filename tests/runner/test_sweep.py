"""Sweeps: a grid of child runs under a parent, executed in parallel, with an objective."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_magics.core.runner import sweep_notebook
from kernel_magics.errors import ParameterTypeError, UnknownParameterError, ValidationError

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
# the `mlops` console script, run through this interpreter (independent of the venv's bin/)
MLOPS = [sys.executable, "-c", "from kernel_magics.cli import main; main()"]


@pytest.mark.slow
def test_grid_runs_children_in_parallel_and_marks_the_best(store):
    grid = {"C": [0.1, 0.3, 0.5], "offset": [1.0, 2.0]}
    result = sweep_notebook(
        NOTEBOOKS / "metric.ipynb", grid, workers=2, objective="metrics.score", maximize=True,
        experiment="grid",
    )  # fmt: skip

    assert result.status == "finished"
    assert len(result.children) == 6
    assert [c.parameters for c in result.children] == [
        {"C": c, "offset": o} for c, o in itertools.product(grid["C"], grid["offset"])
    ]
    parent = store.runs.get(result.parent_run_id)
    assert (parent.source, parent.status, parent.experiment) == ("sweep", "finished", "grid")
    assert parent.params == {"C": "[0.1, 0.3, 0.5]", "offset": "[1.0, 2.0]"}
    children = [store.runs.get(c.run_id) for c in result.children]
    assert all(c.parent_run_id == parent.id and c.status == "finished" for c in children)
    assert all(c.source == "papermill" for c in children)
    scores = {
        (float(c.params["C"]), float(c.params["offset"])): c.metrics["score"] for c in children
    }
    assert scores[(0.3, 2.0)] == pytest.approx(2.0)
    best = max(children, key=lambda c: c.metrics["score"])
    assert result.best_run_id == best.id == parent.tags["mlops.best_run_id"]
    assert result.best_value == pytest.approx(2.0)
    assert parent.metrics == {"best_score": pytest.approx(2.0)}
    assert best.tags["mlops.best"] == "true"
    # two workers: some children overlapped in time
    spans = sorted((c.start_time, c.end_time) for c in children)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(spans))
    assert len({c.notebook_version_id for c in children} | {parent.notebook_version_id}) == 1


def test_failing_children_fail_the_parent(store):
    result = sweep_notebook(NOTEBOOKS / "raises.ipynb", {"x": [1, 2]}, workers=2,
                            objective="metrics.missing")  # fmt: skip

    assert result.status == "failed"
    assert [c.status for c in result.children] == ["failed", "failed"]
    parent = store.runs.get(result.parent_run_id)
    assert parent.status == "failed"
    assert "2 of 2 child runs did not finish" in parent.error
    assert result.best_run_id is None
    assert "no finished child logged metrics.missing" in parent.tags["mlops.best_note"]


@pytest.mark.parametrize(
    ("grid", "kwargs", "error", "message"),
    [
        ({"C": ["abc"]}, {}, ParameterTypeError, "'C' expects float"),
        ({"D": [1]}, {}, UnknownParameterError, "no parameter 'D'"),
        ({"C": []}, {}, ValidationError, "non-empty list"),
        ({}, {}, ValidationError, "at least one parameter"),
        ({"C": [1]}, {"objective": "score"}, ValidationError, r"metrics\.<name>"),
        ({"C": [1]}, {"workers": 0}, ValidationError, "positive integer"),
        ({"C": [1]}, {"executor": "ssh://x"}, ValidationError, "local' or 'dask"),
        ({"C": [1]}, {"parameters": {"C": 2}}, ValidationError, "both swept and fixed"),
    ],
)
def test_bad_sweeps_are_rejected_before_any_run(store, grid, kwargs, error, message):
    with pytest.raises(error, match=message):
        sweep_notebook(NOTEBOOKS / "metric.ipynb", grid, **kwargs)
    assert store.search_runs().run_ids == []


@pytest.mark.slow
def test_cli_sweep(_isolated_store):
    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    done = subprocess.run(
        [*MLOPS, "run", str(NOTEBOOKS / "metric.ipynb"), "--sweep", "C=0.1,0.3", "--sweep",
         "offset=0,1", "--workers", "2", "--objective", "metrics.score", "--minimize", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["status"] == "finished" and len(payload["children"]) == 4
    worst = min(payload["children"], key=lambda c: -((c["parameters"]["C"] - 0.3) ** 2)
                + c["parameters"]["offset"])  # fmt: skip
    assert payload["best_run_id"] == worst["run_id"]
    assert payload["best_value"] == pytest.approx(-((0.1 - 0.3) ** 2))


def test_sweep_only_flags_need_a_sweep(store):
    from click.testing import CliRunner

    from kernel_magics.cli import cli

    for flags in (["--workers", "2"], ["--objective", "metrics.score"]):
        result = CliRunner().invoke(cli, ["run", str(NOTEBOOKS / "metric.ipynb"), *flags])
        assert result.exit_code == 2
        assert f"{flags[0]} only applies to a sweep" in result.output
    assert store.search_runs().run_ids == []


@pytest.mark.slow
def test_terminated_sweep_ends_every_run(store, _isolated_store):
    import signal
    import time

    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    proc = subprocess.Popen(
        [*MLOPS, "run", str(NOTEBOOKS / "sleeps.ipynb"), "--sweep", "seconds=60,61,62",
         "--workers", "2", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip

    def two_sleeping():
        sleeping = 0
        for run_id in store.search_runs().run_ids:
            out = _isolated_store / "outputs" / f"sleeps-{run_id[:8]}.ipynb"
            sleeping += out.is_file() and "sleeping 6" in out.read_text()
        return sleeping == 2

    deadline = time.monotonic() + 90
    while not two_sleeping() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert two_sleeping(), proc.communicate(timeout=5)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)

    records = [store.runs.get(run_id) for run_id in store.search_runs().run_ids]
    parent = next(r for r in records if r.source == "sweep")
    children = [r for r in records if r.parent_run_id == parent.id]
    assert parent.status == "killed"
    assert len(children) == 3
    assert [c.status for c in children] == ["killed"] * 3
    assert sum("Cancelled before it started" in c.error for c in children) == 1
