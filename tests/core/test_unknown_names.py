"""Issue 13: a filter on a metric (or param) no run has returned 0 rows with no hint.

The search now says the name is unknown and lists close known names; the API, the CLI and the
runs widget all show it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import kernel_magics as mlops


@pytest.fixture
def logged(store):
    for acc in (0.8, 0.9):
        with mlops.start_run(experiment="e", params={"penalty": "l2"}, store=store):
            mlops.log_metrics({"accuracy": acc, "val_loss": 1 - acc})
    return store


def test_search_warns_about_unknown_names_with_close_known_names(logged):
    page = logged.search_runs(filter="metrics.acuracy > 0.5 or params.penalty = 'l2'")
    # A typo in one branch of an "or" hides nothing but still deserves a word
    assert page.total == 2
    assert page.warnings == [
        "No run has a metric named 'acuracy', so nothing matches it; "
        "did you mean metrics.accuracy?",
    ]
    typo = logged.search_runs(filter="params.penalti = 'l2' and metrics.val_los < 1")
    assert typo.run_ids == [] and typo.warnings == [
        "No run has a param named 'penalti', so nothing matches it; did you mean params.penalty?",
        "No run has a metric named 'val_los', so nothing matches it; "
        "did you mean metrics.val_loss?",
    ]
    far = logged.search_runs(filter="metrics.zzz > 0", order_by=["tags.owner DESC"])
    assert far.run_ids == [] and far.warnings == [
        "No run has a metric named 'zzz', so nothing matches it; "
        "known metric names: accuracy, val_loss",
        "No run has a tag named 'owner', so nothing matches it; no run has logged any tag yet",
    ]
    assert logged.search_runs(filter="metrics.accuracy > 0.85").warnings == []


def test_mlops_runs_ls_prints_the_warning_on_stderr(logged, _isolated_store):
    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    out = subprocess.run(
        [sys.executable, "-c", "from kernel_magics.cli import main; main()",
         "runs", "ls", "--json", "-f", "metrics.acuracy > 0.5"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "[]"  # stdout stays JSON
    assert out.stderr.strip() == (
        "Warning: No run has a metric named 'acuracy', so nothing matches it; "
        "did you mean metrics.accuracy?"
    )


def test_the_runs_widget_shows_the_warning(logged):
    pytest.importorskip("ipywidgets")
    from kernel_magics.kernel.widgets.runs_table import RunsTable

    widget = RunsTable(logged, None, None, 20)
    widget.filter_box.value = "metrics.acuracy > 0.5"  # typing in the box searches again
    assert "0 runs" in widget.message.value
    assert "did you mean metrics.accuracy?" in widget.message.value
