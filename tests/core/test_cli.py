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


NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"


def run_cli(
    *args: str, check: bool = True, cwd=None, columns: int = 200
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [MLOPS, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
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


def _columns(out: str) -> tuple[list[str], list[list[str]]]:
    """The header of each column (its header lines joined) and the body rows of a rich table."""
    head = [line.strip("┃").split("┃") for line in out.splitlines() if line.startswith("┃")]
    body = [line.strip("│").split("│") for line in out.splitlines() if line.startswith("│")]
    headers = [" ".join(part[i].strip() for part in head).strip() for i in range(len(head[0]))]
    return headers, [[cell.strip() for cell in row] for row in body]


@pytest.fixture
def wide_runs(store):
    ids = []
    for c, acc in [(0.1, 0.91), (1.0, 0.72), (10.0, 0.65)]:
        params = {"C": c, "penalty": "l2", "solver": "lbfgs", "max_iter": 200}
        with mlops.start_run(experiment="churn-baseline", name=f"lr-{c}", params=params,
                             store=store) as run:  # fmt: skip
            mlops.log_metrics({"accuracy": acc, "f1_score": acc - 0.1, "roc_auc": acc + 0.05,
                               "log_loss": 1 - acc})  # fmt: skip
        ids.append(run.id)
    store.close()
    return ids


def test_runs_ls_at_80_columns_drops_columns_instead_of_blanking_them(wide_runs):
    # Issue 13: at 80 columns every column was squeezed to nothing (blank headers and cells).
    out = run_cli("runs", "ls", columns=80).stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    headers, rows = _columns(out)
    assert all(headers), f"a column has no header: {headers}"
    assert headers[:3] == ["Run", "Name", "Status"]
    assert "metrics. accuracy" in headers
    by_id = {row[0]: row for row in rows if row[0]}
    for run_id, acc in zip(wide_runs, ["0.65", "0.72", "0.91"][::-1], strict=True):
        row = by_id[run_id[:8]]
        assert row[2] == "finished" and acc in row and all(row), row
    assert "Left out to fit 80 columns: Experiment, Started, Duration, params.C," in out
    # A wide terminal still gets every column, each cell on one line.
    headers, rows = _columns(run_cli("runs", "ls", columns=250).stdout)
    assert len(headers) == 14 and len(rows) == 3


def test_runs_ls_and_show_import_no_heavy_module(wide_runs):
    code = (
        "import sys\nfrom kernel_magics.cli import main\n"
        "for argv in (['runs', 'ls'], ['runs', 'show', 'last'], ['runs', 'ls', '--json']):\n"
        "    sys.argv = ['mlops', *argv]\n"
        "    try:\n        main()\n    except SystemExit as exc:\n        assert not exc.code\n"
        "heavy = {'pandas', 'matplotlib', 'papermill', 'fastapi', 'numpy'} & set(sys.modules)\n"
        "print('HEAVY', sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "HEAVY []"


def test_runs_ls_json_is_the_dataframe_shape(wide_runs):
    rows = json.loads(run_cli("runs", "ls", "--json").stdout)
    frame = json.loads(mlops.runs().to_json(orient="records", date_format="iso"))
    assert [list(r) for r in rows] == [list(r) for r in frame]  # same keys, same order
    for ours, theirs in zip(rows, frame, strict=True):
        # pandas rounds floats to 10 digits in JSON; the CLI keeps the stored value.
        assert ours == {k: pytest.approx(v) if isinstance(v, float) else v
                        for k, v in theirs.items()}  # fmt: skip
    assert list(rows[0])[:10] == ["run_id", "experiment", "name", "status", "source",
                                  "start_time", "end_time", "parent_run_id", "notebook_path",
                                  "params.C"]  # fmt: skip


def test_runs_show_last_and_a_prefix(wide_runs):
    out = run_cli("runs", "show", "last").stdout
    assert out.startswith(f"Run {wide_runs[-1]}  lr-10.0") and "Status:     finished" in out
    assert "roc_auc" in out and "0.7" in out


@pytest.mark.slow
def test_runs_show_of_a_sweep_lists_its_children(_isolated_store):
    # Issue 13: `runs show` of a sweep parent listed no children.
    result = json.loads(run_cli(
        "run", str(NOTEBOOKS / "metric.ipynb"), "--sweep", "C=0.1,0.3", "--sweep", "offset=0,1",
        "--objective", "metrics.score", "--minimize", "--json",
    ).stdout)  # fmt: skip
    parent, best = result["parent_run_id"], result["best_run_id"]
    out = run_cli("runs", "show", parent[:8], columns=100).stdout
    assert "Child runs (4)" in out and "objective: min metrics.score" in out
    headers, rows = _columns(out.split("Child runs (4)")[1])
    assert headers == ["Run", "Status", "params.C", "params.offset", "metrics.score", "Duration",
                       "Best"]  # fmt: skip
    from kernel_magics.core.store import open_store

    store = open_store()
    children = [store.runs.get(c["run_id"]) for c in result["children"]]
    assert [r[0] for r in rows] == [c.id[:8] for c in children]
    for row, child in zip(rows, children, strict=True):
        assert row[1] == "finished" and row[2] == child.params["C"]
        assert row[4] == f"{child.metrics['score']:.4g}"
        assert row[6] == ("best" if child.id == best else "")


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
