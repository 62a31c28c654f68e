"""`mlops rerun` of a run made by one tracked cell certifies that cell, not the whole notebook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kernel_magics.core.names import SOURCE_CELL, Tag
from kernel_magics.core.runner import rerun

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
MLOPS = [sys.executable, "-c", "from kernel_magics.cli import main; main()"]

pytestmark = pytest.mark.slow


@pytest.fixture
def cell_runs(store, tmp_path, monkeypatch):
    """Execute two_tracked_cells.ipynb as JupyterLab would: one cell run per tracked cell."""
    path = tmp_path / "two_tracked_cells.ipynb"
    shutil.copy(NOTEBOOKS / "two_tracked_cells.ipynb", path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # what the server puts in the kernel env
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, startup_timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    runs = [store.runs.get(run_id) for run_id in store.search_runs().run_ids]
    by_model = {run.params["model"]: run for run in runs}
    assert {run.source for run in runs} == {SOURCE_CELL}
    assert set(by_model) == {"first", "second"}
    return by_model


def test_rerun_of_one_cell_compares_with_the_same_cells_run(store, cell_runs):
    second = cell_runs["second"]
    assert second.notebook_version_id is not None
    assert "fit_time_s" in second.metrics

    report = rerun(second.id)

    assert report.result.status == "finished", report.result.error
    # The other tracked cell's metric `a` and param `model=first` do not leak into the comparison,
    # and the wall-clock fit_time_s is reported as not compared instead of as a difference.
    assert report.identical, report.differences
    assert report.not_compared == ["fit_time_s"]
    assert report.cell is not None and report.cell.by in ("cell id", "source hash")
    matched = store.runs.get(report.cell.run_id)
    assert matched.parent_run_id == report.result.run_id
    assert matched.params["model"] == "second" and matched.metrics["b"] == 1.5
    assert "a" not in matched.metrics
    assert report.compared_run_id == matched.id
    assert store.runs.get(second.id).tags[Tag.REPRODUCED_BY] == report.result.run_id
    # The first cell made its own child run too: neither merged into the rerun's run.
    children = store.search_runs(filter=f"parent_run_id = '{report.result.run_id}'").run_ids
    assert len(children) == 2


def test_cell_matched_by_source_hash_when_the_id_is_unknown(store, cell_runs):
    first = cell_runs["first"]
    store.runs.set_tags(first.id, {Tag.CELL_ID: "an-id-no-cell-has"})

    report = rerun(first.id)

    assert report.cell is not None and report.cell.by == "source hash"
    assert report.cell.value == first.tags[Tag.CELL_HASH]
    assert report.identical, report.differences


def test_a_cell_that_is_not_in_the_stored_version_is_named(store, cell_runs):
    first = cell_runs["first"]
    store.runs.set_tags(first.id, {Tag.CELL_ID: "gone", Tag.CELL_HASH: "0" * 64})

    report = rerun(first.id)

    assert report.cell is None and not report.identical
    [difference] = report.differences
    assert difference.kind == "cell" and "No tracked cell of the rerun" in difference.note


def test_cli_rerun_of_a_cell_run_says_which_cell_it_matched(cell_runs, _isolated_store):
    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    env.pop("JPY_SESSION_NAME", None)
    done = subprocess.run([*MLOPS, "rerun", cell_runs["second"].id[:8], "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "made by the same tracked cell (matched by" in done.stdout
    assert "Not compared (wall-clock timings): fit_time_s" in done.stdout
    assert "Identical to" in done.stdout
