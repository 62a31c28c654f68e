"""templates/monitor.ipynb under `mlops run` (a real kernel) on a store with real buckets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from churn_data import churn_frame
from monitor_fixtures import register, write_bucket

from kernel_magics.core.compare import resolve_run

MLOPS = shutil.which("mlops", path=str(Path(sys.executable).parent)) or "mlops"
TEMPLATE = Path(__file__).parents[2] / "templates" / "monitor.ipynb"
HOUR = 3600.0


@pytest.mark.slow
def test_monitor_template_logs_drift_and_accuracy_as_metrics(store, tmp_path):
    # Given an hour like training (with labels), then an hour with charges shifted
    model, version = register(store)
    this_hour = time.time() // HOUR * HOUR
    calm, target = churn_frame(800, seed=1)
    shifted, _ = churn_frame(800, seed=2)
    shifted["charges"] += 20.0
    predictions = write_bucket(store, model, version, calm, this_hour - HOUR + 60)
    write_bucket(store, model, version, shifted, this_hour + 1)
    store.monitoring.add_predictions([
        {"model_version_id": version.id, "deployment_id": None, "request_id": f"r{i}", "row": 0,
         "at": this_hour - HOUR + 60 + i, "prediction": int(p), "score": None}
        for i, p in enumerate(predictions[:200])
    ])  # fmt: skip
    store.monitoring.add_labels("churn", [(f"r{i}", 0, int(target.iloc[i])) for i in range(200)])
    notebook = tmp_path / "monitor.ipynb"
    shutil.copy(TEMPLATE, notebook)
    # When the report notebook runs as a tracked run
    done = subprocess.run(
        [MLOPS, "run", str(notebook), "-p", "model_ref=churn@production", "-p", "since=3h"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Then the run holds the latest window's drift and the labelled window's accuracy
    run = store.runs.get(resolve_run(store, "last"))
    assert run.status == "finished"
    assert run.params["model_ref"] == "churn@production" and run.params["version"] == "1"
    assert run.metrics["drifted_features"] == 1
    assert run.metrics["drift_share"] == pytest.approx(1 / 3)
    assert run.metrics["drift_charges"] > 0.2
    assert run.tags["drifted"] == "charges"
    history = store.runs.metric_history(run.id, "accuracy")
    expected = float((predictions[:200] == target.to_numpy()[:200]).mean())
    assert [p["value"] for p in history] == pytest.approx([expected])
    # and the summaries as an artifact
    assert "monitor.json" in {a["path"] for a in run.artifacts}
    (artifact,) = [a for a in run.artifacts if a["path"] == "monitor.json"]
    assert artifact["size"] > 0
    assert json.loads(json.dumps(run.params))  # plain values
