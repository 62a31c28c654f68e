"""Why runs differ (kernel_magics.core.compare), on a real store: data, packages, Python."""

from __future__ import annotations

import pandas as pd
import pytest

from kernel_magics.core import tracking
from kernel_magics.core.compare import compare_runs, resolve_run, run_details
from kernel_magics.core.environment import environment_json
from kernel_magics.core.store.artifacts import register_blob
from kernel_magics.errors import RunNotFoundError, ValidationError


def _env(store, run_id, python, numpy):
    ref = store.blobs.put_bytes(
        environment_json({"python": python, "packages": {"numpy": numpy, "pandas": "3.1"}})
    )
    with store.db.write() as conn:
        register_blob(conn, ref)
    store.runs.set_fields(run_id, environment_hash=ref.hash)


def _run(store, C, frame, python, numpy):
    run = tracking.start_run(experiment="cmp", params={"C": C}, store=store)
    run.log_dataset(frame, name="train")
    run.log_metric("acc", 0.5 + C)
    tracking.end_run(run=run)
    _env(store, run.id, python, numpy)
    return run.id


def test_compare_names_data_packages_and_python(any_store):
    a = _run(any_store, 0.1, pd.DataFrame({"x": [1, 2, 3]}), "3.11.7", "2.3.0")
    b = _run(any_store, 0.2, pd.DataFrame({"x": [1, 2, 4]}), "3.12.1", "2.4.1")
    result = compare_runs(any_store, [a[:8], b])
    assert result["summary"] == [
        "Params differ: C.",
        "Datasets differ: train.",
        "Metrics differ: acc.",
        "Python versions differ: 3.11.7 vs 3.12.1.",
        "Packages differ: numpy.",
    ]
    assert result["packages"] == [{"key": "numpy", "values": ["2.3.0", "2.4.1"], "differs": True}]
    assert result["code"] == {b[:8]: []}  # not cell runs: no source to diff
    assert result["notebook"] == {b[:8]: None}


def test_same_data_same_environment(any_store):
    frame = pd.DataFrame({"x": [1, 2, 3]})
    a = _run(any_store, 0.1, frame, "3.11.7", "2.3.0")
    b = _run(any_store, 0.1, frame.copy(), "3.11.7", "2.3.0")
    assert compare_runs(any_store, [a, b])["summary"] == [
        "No recorded difference: same params, data, environment and code."
    ]


def test_compare_needs_two_distinct_runs(any_store):
    a = _run(any_store, 0.1, pd.DataFrame({"x": [1]}), "3.11.7", "2.3.0")
    with pytest.raises(ValidationError, match="two different runs"):
        compare_runs(any_store, [a, a[:6]])


def test_details_and_last(any_store):
    with pytest.raises(RunNotFoundError, match="no runs yet"):
        resolve_run(any_store, "last")
    a = _run(any_store, 0.3, pd.DataFrame({"x": [1]}), "3.11.7", "2.3.0")
    details = run_details(any_store, "last")
    assert details["run"]["id"] == a
    assert details["environment"]["python"] == "3.11.7"
    assert details["cell_source"] is None and details["notebook_version"] is None
    assert details["curves"] == {"acc": [(0, pytest.approx(0.8))]}
