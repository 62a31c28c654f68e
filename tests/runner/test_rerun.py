"""Reruns: the stored notebook version and parameters run again, and differences are reported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_magics.core.runner import rerun, run_notebook
from kernel_magics.errors import RunNotFoundError, ValidationError

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
# the `mlops` console script, run through this interpreter (independent of the venv's bin/)
MLOPS = [sys.executable, "-c", "from kernel_magics.cli import main; main()"]


@pytest.fixture
def dataset_notebook(tmp_path):
    notebook = tmp_path / "dataset.ipynb"
    shutil.copy(NOTEBOOKS / "dataset.ipynb", notebook)
    (tmp_path / "data.csv").write_text("value\n1\n2\n3\n")
    return notebook


@pytest.mark.slow
def test_deterministic_rerun_is_identical_then_a_changed_dataset_is_named(store, dataset_notebook):
    original = run_notebook(dataset_notebook)
    assert original.status == "finished", original.error

    # Edit the notebook on disk: the rerun must still execute the stored version.
    broken = json.loads(dataset_notebook.read_text())
    broken["cells"][1]["source"] = "raise RuntimeError('edited after the run')"
    dataset_notebook.write_text(json.dumps(broken))

    same = rerun(original.run_id)
    assert same.result.status == "finished", same.result.error
    assert same.identical, same.differences
    again = store.runs.get(same.result.run_id)
    assert again.tags["mlops.rerun_of"] == original.run_id
    assert again.tags["mlops.rerun.identical"] == "true"
    first = store.runs.get(original.run_id)
    assert first.tags["mlops.reproduced_by"] == again.id
    assert again.notebook_version_id == first.notebook_version_id
    assert again.params == first.params
    assert again.metrics == first.metrics == {"mean": 2.0, "rows": 3.0}

    (dataset_notebook.parent / "data.csv").write_text("value\n1\n2\n3\n10\n")
    changed = rerun(original.run_id[:8], tolerance=1e-6, with_current_data=True)
    kinds = {(d.kind, d.name) for d in changed.differences}
    assert kinds == {("dataset", "measurements"), ("metric", "mean"), ("metric", "rows")}
    dataset = next(d for d in changed.differences if d.kind == "dataset")
    assert (
        "Dataset 'measurements' changed content" in dataset.note and "3 -> 4 rows" in dataset.note
    )
    mean = next(d for d in changed.differences if d.name == "mean")
    assert (mean.original, mean.rerun) == (2.0, 4.0)
    assert store.runs.get(changed.result.run_id).tags["mlops.rerun.differences"] == "3"
    assert store.runs.get(original.run_id).tags["mlops.reproduced_by"] == again.id  # unchanged


def test_metric_tolerance(store):
    from kernel_magics.core.runner.rerun import compare
    from kernel_magics.core.tracking import start_run

    with start_run(params={"x": 1}) as a:
        a.log_metric("loss", 1.0)
    with start_run(params={"x": 1}) as b:
        b.log_metric("loss", 1.0 + 1e-7)
    ra, rb = store.runs.get(a.id), store.runs.get(b.id)
    assert compare(store, ra, rb, tolerance=1e-6) == []
    [diff] = compare(store, ra, rb, tolerance=1e-9)
    assert (diff.kind, diff.name) == ("metric", "loss")


def test_rerun_needs_a_stored_notebook_version(store):
    from kernel_magics.core.tracking import start_run

    with start_run() as run:
        pass
    with pytest.raises(ValidationError, match="no stored notebook version"):
        rerun(run.id)
    with pytest.raises(RunNotFoundError):
        rerun("abcdef12")
    with pytest.raises(ValidationError, match="tolerance"):
        rerun(run.id, tolerance=-1)


@pytest.mark.slow
def test_cli_rerun_reports_differences(store, dataset_notebook, _isolated_store):
    original = run_notebook(dataset_notebook)
    (dataset_notebook.parent / "data.csv").write_text("value\n5\n")
    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    done = subprocess.run([*MLOPS, "rerun", original.run_id[:8], "--no-progress",
                           "--with-current-data"],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "difference(s) from" in done.stdout and "measurements" in done.stdout


def test_environment_differences_name_python_and_packages(store):
    from kernel_magics.core.runner.rerun import compare
    from kernel_magics.core.store.artifacts import register_blob
    from kernel_magics.core.tracking import start_run

    def with_environment(python: str, packages: dict) -> str:
        ref = store.blobs.put_bytes(json.dumps({"python": python, "packages": packages}).encode())
        with store.db.write() as conn:
            register_blob(conn, ref)
        with start_run() as run:
            pass
        store.runs.set_fields(run.id, environment_hash=ref.hash)
        return run.id

    a = with_environment("3.11.7", {"pandas": "3.0.1", "numpy": "2.3.0", "gone": "1.0"})
    b = with_environment("3.12.1", {"pandas": "3.1.0", "numpy": "2.3.0", "new": "0.1"})
    diffs = compare(store, store.runs.get(a), store.runs.get(b), tolerance=0)
    found = {(d.kind, d.name): (d.original, d.rerun) for d in diffs}
    assert found == {
        ("python", "python"): ("3.11.7", "3.12.1"),
        ("package", "gone"): ("1.0", None),
        ("package", "new"): (None, "0.1"),
        ("package", "pandas"): ("3.0.1", "3.1.0"),
    }
    assert any(d.note == "pandas 3.0.1 -> 3.1.0" for d in diffs)
