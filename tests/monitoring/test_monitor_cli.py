"""`mlops monitor`, run as a user would (a real subprocess) on a store with real buckets."""

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

from kernel_magics.core.monitoring.windows import METRICS

MLOPS = shutil.which("mlops", path=str(Path(sys.executable).parent)) or "mlops"
HOUR = 3600.0


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [MLOPS, *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    if check and result.returncode != 0:
        raise AssertionError(f"mlops {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def monitored(store):
    """Two hours of traffic: the older one like training, the last one with charges shifted."""
    model, version = register(store)
    this_hour = time.time() // HOUR * HOUR
    calm, _ = churn_frame(1200, seed=1)
    shifted, _ = churn_frame(800, seed=2)
    shifted["charges"] += 20.0
    write_bucket(store, model, version, calm, this_hour - HOUR + 60, errors=12)
    write_bucket(store, model, version, shifted, this_hour + 1)
    return this_hour


def test_json_has_every_window_and_metric(monitored):
    # When
    data = json.loads(run_cli("monitor", "churn@production", "--since", "3h", "--json").stdout)
    # Then the two hours with data are the last two windows, the shifted one flagged
    assert data["model"] == "churn@production" and data["version"] == 1
    assert data["window_s"] == HOUR and data["drift_config"]["psi_threshold"] == 0.2
    windows = data["windows"]
    assert [w["start"] for w in windows[-2:]] == [monitored - HOUR, monitored]
    previous, latest = windows[-2], windows[-1]
    assert set(latest["values"]) == set(METRICS)
    assert previous["values"]["requests"] == 1212
    assert previous["values"]["errors.rate"] == pytest.approx(12 / 1212)
    assert previous["drifted_features"] == []
    assert latest["drifted_features"] == ["charges"]
    assert latest["features"]["charges"]["status"] == "drift"


def test_show_is_the_default_and_prints_a_table(monitored):
    # When the table and the per-feature drift of the latest window are printed
    out = run_cli("monitor", "churn", "--since", "2h", "--window", "1h", "--features").stdout
    same = run_cli("monitor", "show", "churn", "--since", "2h", "--window", "1h", "--features")
    # Then both spellings agree, and the drifted feature is named
    assert out == same.stdout
    assert "churn (version 1), windows of 1h" in out
    assert "1/3 (charges)" in out
    assert "psi" in out and "drift" in out


def test_a_window_with_few_rows_says_not_enough_data(store):
    model, version = register(store)
    few, _ = churn_frame(30, seed=3)
    write_bucket(store, model, version, few, time.time() - 30)
    out = run_cli("monitor", "churn", "--since", "1h").stdout
    assert "not enough data" in out
    data = json.loads(run_cli("monitor", "churn", "--since", "1h", "--json").stdout)
    latest = [w for w in data["windows"] if w["rows"]][-1]
    assert latest["enough_data"] is False and latest["values"]["drift.share"] is None


def test_bad_input_is_one_clear_line(store):
    register(store)
    bad = run_cli("monitor", "churn", "--since", "a week", check=False)
    assert bad.returncode == 2 and "not a duration" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = run_cli("monitor", "nope@production", check=False)
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    many = run_cli("monitor", "churn", "--since", "30d", "--window", "1m", check=False)
    assert many.returncode == 2 and "too many" in many.stderr
