"""Issue 13: `mlops runs rm` of a run that is still running.

It used to delete the run at once; the running process then printed raw SQLAlchemy errors every
flush and died with a traceback at run end. Now a live run is refused unless ``--force``, and a
process whose run disappeared stops logging with one clear warning and exits normally.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kernel_magics.errors import RunStillRunningError

LOGGER = textwrap.dedent(
    """
    import sys, time
    import kernel_magics as mlops
    with mlops.start_run(experiment="doomed") as run:
        print(run.id, flush=True)
        sys.stdin.readline()  # the test deletes the run, then says go on
        for i in range(20):
            mlops.log_metric("m", i)
            time.sleep(0.05)
        mlops.log_param("p", 1)
        mlops.set_tag("t", "x")
        mlops.log_text("hello", "notes.txt")
    print("done", flush=True)
    """
)


def _mlops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "from kernel_magics.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_rm_refuses_a_live_run_and_force_leaves_one_warning(_isolated_store):
    from kernel_magics.core.store import open_store

    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    proc = subprocess.Popen(
        [sys.executable, "-c", LOGGER], env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    run_id = proc.stdout.readline().strip()

    # When: the user deletes the live run without --force
    refused = _mlops("runs", "rm", "-y", run_id[:8], env=env)
    # Then: refused with a message naming the run, its process and the way out
    assert refused.returncode == 2
    assert f"Run {run_id[:8]} (pid {proc.pid} on " in refused.stderr
    assert "--force" in refused.stderr
    assert open_store().runs.get(run_id).status == "running"

    # When: deleted with --force while the process keeps logging
    forced = _mlops("runs", "rm", "-y", "--force", run_id[:8], env=env)
    assert forced.returncode == 0 and f"Deleted 1 run(s): {run_id[:8]}" in forced.stdout
    out, err = proc.communicate("go\n", timeout=120)

    # Then: the process ends normally, with one clear warning and no traceback
    assert proc.returncode == 0 and out.splitlines()[-1] == "done"
    assert "Traceback" not in err and "sqlalchemy" not in err.lower()
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [
        f"jupyter-mlops: run {run_id[:8]} was deleted from the store while this process was "
        "logging into it; nothing more is recorded for it (its metrics, params, tags and final "
        "status are dropped). Start a new run to keep tracking."
    ]
    assert open_store().runs.existing([run_id]) == set()


def test_delete_refuses_a_live_child_and_accepts_ended_and_dead_runs(store):
    # Given: a finished parent with a child still running in this process
    experiment = store.experiments.get_or_create("e")
    parent = store.runs.create(experiment)
    store.runs.finish(parent, "finished")
    child = store.runs.create(experiment, parent_run_id=parent)
    # Then: deleting the parent would delete the live child: refused, nothing deleted
    with pytest.raises(RunStillRunningError, match=f"Run {child[:8]} \\(pid {os.getpid()} on"):
        store.runs.delete(parent)
    assert store.runs.existing([parent, child]) == {parent, child}

    # A run whose process is gone is not live: deleted without force
    dead = subprocess.Popen(["true"])
    dead.wait()
    crashed = store.runs.create(experiment, pid=dead.pid)
    assert store.runs.delete(crashed) == [crashed]
    assert sorted(store.runs.delete(parent, force=True)) == sorted([parent, child])
