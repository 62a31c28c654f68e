"""Issue 13: `mlops runs ls` and `mlops runs show` read a SQLite store through sqlite3.

The quick reads run the store's own statements, compiled ahead of time, through the same
assembly code (`RunReads`). What a user sees must be the same on both paths, including a run
whose process died (shown crashed), a sweep's children, artifacts and datasets; anything the
quick path cannot do falls back to the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.core.store import close_stores, open_store
from kernel_magics.core.store.quick_reads import quick_reads
from kernel_magics.core.store.read_statements import main as compiled_check


def test_the_compiled_statements_are_up_to_date():
    assert compiled_check(["--check"]) == 0, (
        "run python -m kernel_magics.core.store.read_statements"
    )


@pytest.fixture
def populated(tmp_path):
    """A store with a sweep (parent + children), artifacts, a dataset, tags and a dead run."""
    frame_file = tmp_path / "train.csv"
    frame_file.write_text("a,b\n1,2\n3,4\n")
    with mlops.start_run(experiment="sweep", name="grid", tags={"team": "ml"}) as parent:
        mlops.set_tag("mlops.sweep.objective", "max metrics.acc")
        for c in (0.1, 1.0):
            with mlops.start_run(name=f"C={c}", params={"C": c}, nested=True):
                mlops.log_metric("acc", 0.5 + c / 10)
        mlops.log_text("hello", "notes/readme.txt")
        mlops.log_dataset(str(frame_file), name="train")
    store = open_store()
    exp = store.experiments.get_or_create("other")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = store.runs.create(exp, name="killed", pid=int(gone.stdout))  # shown crashed
    close_stores()
    return parent.id, dead


def _invoke(args: list[str], quick: bool) -> str:
    env = {"MLOPS_QUICK_READS": "1" if quick else "0", "COLUMNS": "160"}
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "args",
    [["runs", "ls", "--json"], ["runs", "ls"], ["runs", "ls", "-n", "2"]],
    ids=["ls json", "ls table", "ls limit"],
)
def test_runs_ls_shows_the_same_on_both_paths(populated, args):
    quick = _invoke(args, quick=True)
    assert quick == _invoke(args, quick=False)
    if "--json" in args:
        rows = {r["name"]: r for r in json.loads(quick)}
        assert rows["killed"]["status"] == "crashed"
        assert rows["C=1.0"]["params.C"] == "1.0"


@pytest.mark.parametrize("json_out", [True, False], ids=["json", "page"])
def test_runs_show_shows_the_same_on_both_paths(populated, json_out):
    parent_id, dead = populated
    for ref in (parent_id[:8], dead, "last"):
        args = ["runs", "show", ref] + (["--json"] if json_out else [])
        quick = _invoke(args, quick=True)
        assert quick == _invoke(args, quick=False)
    shown = _invoke(["runs", "show", parent_id[:8]], quick=True)
    assert "Child runs (2)" in shown and "notes/readme.txt" in shown and "train" in shown
    record = json.loads(_invoke(["runs", "show", dead, "--json"], quick=True))
    assert record["status"] == "crashed" and "stopped without ending" in record["error"]


def test_unknown_and_ambiguous_ids_say_so_on_the_quick_path(populated):
    result = CliRunner().invoke(cli, ["runs", "show", "ffff0000"])
    assert result.exit_code != 0
    assert "No run id starts with 'ffff0000'" in str(result.exception or result.output)


def test_quick_reads_step_aside_when_they_cannot_answer(tmp_path, monkeypatch):
    # No store yet: the usual path creates it
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "fresh" / ".mlops"))
    assert quick_reads() is None
    # A store behind the head revision: the usual path migrates it first
    store = open_store()
    with store.db.write() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    close_stores()
    assert quick_reads() is None
    # PostgreSQL is never read this way
    monkeypatch.setenv("MLOPS_STORE_URI", "postgresql://nobody@127.0.0.1:1/none")
    assert quick_reads() is None


def test_runs_ls_and_show_do_not_import_sqlalchemy(populated):
    parent_id, _ = populated
    for args in (["runs", "ls"], ["runs", "show", parent_id]):
        code = (
            "import sys\n"
            "from kernel_magics.cli import main\n"
            f"sys.argv = ['mlops', *{args!r}]\n"
            "try:\n"
            "    main()\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "print('sqlalchemy' in sys.modules, file=sys.stderr)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "COLUMNS": "120"})  # fmt: skip
        assert "grid" in out.stdout
        assert out.stderr.strip().splitlines()[-1] == "False"
