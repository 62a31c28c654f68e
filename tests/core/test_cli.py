"""The `mlops` command, run as a user would (a real subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kernel_magics as mlops

MLOPS = shutil.which("mlops", path=str(Path(sys.executable).parent)) or "mlops"


def run_cli(*args: str, check: bool = True, cwd=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [MLOPS, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"mlops {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def populated(store):
    ids = []
    for c, acc in [(0.1, 0.9), (1.0, 0.7)]:
        with mlops.start_run(experiment="cli", params={"C": c}, store=store) as run:
            mlops.log_metric("acc", acc)
        ids.append(run.id)
    store.close()
    return ids


def test_info_says_where_and_why(_isolated_store):
    out = run_cli("info").stdout
    assert str(_isolated_store / "mlops.db") in out and "MLOPS_HOME is set" in out
    data = json.loads(run_cli("info", "--json").stdout)
    assert data["artifacts_uri"] == str(_isolated_store / "artifacts")


def test_runs_ls_filter_order_and_json(populated):
    out = run_cli("runs", "ls", "-f", "metrics.acc > 0.8").stdout
    assert populated[0][:8] in out and populated[1][:8] not in out
    rows = json.loads(run_cli("runs", "ls", "-o", "metrics.acc ASC", "--json").stdout)
    assert [r["run_id"] for r in rows] == [populated[1], populated[0]]
    assert rows[0]["params.C"] == "1.0"


def test_runs_show_and_rm(populated):
    shown = json.loads(run_cli("runs", "show", populated[0][:8], "--json").stdout)
    assert shown["metrics"] == {"acc": 0.9} and shown["status"] == "finished"
    assert "acc" in run_cli("runs", "show", populated[0]).stdout
    run_cli("runs", "rm", "-y", populated[0])
    assert populated[0][:8] not in run_cli("runs", "ls").stdout


def test_experiments_ls(populated):
    data = json.loads(run_cli("experiments", "ls", "--json").stdout)
    assert [(e["name"], e["run_count"]) for e in data] == [("cli", 2)]


def test_user_errors_are_one_clear_line(populated):
    bad = run_cli("runs", "ls", "-f", "metrics.acc >> 1", check=False)
    assert (
        bad.returncode == 2
        and bad.stderr.startswith("Error: Unexpected")
        and "Traceback" not in bad.stderr
    )
    missing = run_cli("runs", "show", "deadbeef", check=False)
    assert missing.returncode == 2 and "No run id starts with" in missing.stderr


def test_reap_gc_and_db_upgrade(populated):
    assert "Marked 0 run(s) crashed." in run_cli("runs", "reap").stdout
    assert "unreferenced blob" in run_cli("gc", "--dry-run").stdout
    assert "at revision" in run_cli("db", "upgrade").stdout


def test_every_command_has_help():
    from kernel_magics.cli import COMMANDS

    for name in COMMANDS:
        out = run_cli(name, "--help").stdout
        assert "Usage:" in out and len(out.splitlines()) > 3, name
