"""Many writers at once, and processes killed mid-logging: nothing lost, nothing corrupt."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

WRITER = textwrap.dedent(
    """
    import os, sys
    import kernel_magics as mlops
    index = int(sys.argv[1])
    sys.stdin.readline()  # start together
    with mlops.start_run(experiment="load", name=f"w{index}") as run:
        for i in range(1000):
            mlops.log_metric("m", i, step=i)
            mlops.log_param(f"p{i}", i)
    print(run.id)
    """
)


@pytest.mark.slow
def test_sixteen_processes_log_metrics_and_params(tmp_path, _isolated_store):
    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(i)], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(16)
    ]  # fmt: skip
    time.sleep(1.5)  # let every interpreter import before the start signal
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=300) for p in procs]
    errors = [err for (_, err), p in zip(outputs, procs, strict=True) if p.returncode != 0]
    assert errors == []
    conn = sqlite3.connect(_isolated_store / "mlops.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM metrics").fetchone()[0] == 16 * 1000
    assert conn.execute("SELECT count(*) FROM params").fetchone()[0] == 16 * 1000
    per_run = conn.execute(
        "SELECT count(DISTINCT step), max(step) FROM metrics GROUP BY series_id"
    ).fetchall()
    assert per_run == [(1000, 999)] * 16
    assert conn.execute("SELECT count(*) FROM runs WHERE status = 'finished'").fetchone()[0] == 16


LOGGER = textwrap.dedent(
    """
    import sys, time
    import kernel_magics as mlops
    run = mlops.start_run(experiment="crash")
    print(run.id, flush=True)
    step = 0
    while True:
        mlops.log_metric("tick", time.time(), step=step)
        step += 1
        time.sleep(0.01)
    """
)


@pytest.mark.slow
def test_sigkill_loses_at_most_the_last_second(_isolated_store):
    from kernel_magics.core.store import open_store

    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    rng = random.Random(7)
    trials = []
    for _ in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-c", LOGGER], env=env, stdout=subprocess.PIPE, text=True
        )
        run_id = proc.stdout.readline().strip()
        time.sleep(rng.uniform(1.1, 1.8))  # so every trial has points older than 1 s
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        trials.append((run_id, killed_at))

    conn = sqlite3.connect(_isolated_store / "mlops.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for run_id, killed_at in trials:
        rows = conn.execute(
            "SELECT m.step, m.value FROM metrics m JOIN latest_metrics s ON s.id = m.series_id "
            "WHERE s.run_id = ? ORDER BY m.step",
            (run_id,),
        ).fetchall()
        steps = [r[0] for r in rows]
        assert steps == list(range(len(steps))), "a gap: a flushed batch lost points"
        last_logged = rows[-1][1] if rows else None
        # Every point logged more than 1 s before the kill is stored: the newest stored point
        # is younger than that (points are logged every 10 ms).
        assert last_logged is not None and last_logged >= killed_at - 1.0

    store = open_store()
    crashed = store.runs.reap()
    assert sorted(crashed) == sorted(r for r, _ in trials)
    assert {store.runs.get(r).status for r, _ in trials} == {"crashed"}


def test_sigterm_ends_the_run_killed(_isolated_store):
    from kernel_magics.core.store import open_store

    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    proc = subprocess.Popen(
        [sys.executable, "-c", LOGGER], env=env, stdout=subprocess.PIPE, text=True
    )
    run_id = proc.stdout.readline().strip()
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM  # the shell convention for SIGTERM
    record = open_store().runs.get(run_id)
    assert record.status == "killed" and "SIGTERM" in record.error
    assert record.metrics["tick"] > 0


BUSY_WRITER = textwrap.dedent(
    """
    import kernel_magics as mlops
    run = mlops.start_run(experiment="busy")
    print(run.id, flush=True)
    i = 0
    while True:  # database writes on the main thread while the flusher writes too
        mlops.set_tag("i", i)
        mlops.log_metric("i", i)
        i += 1
    """
)


@pytest.mark.parametrize("delay", [0.2, 0.45, 0.7])
def test_sigterm_during_a_database_write_still_ends_killed(_isolated_store, delay):
    from kernel_magics.core.store import open_store

    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    proc = subprocess.Popen(
        [sys.executable, "-c", BUSY_WRITER], env=env, stdout=subprocess.PIPE, text=True
    )
    run_id = proc.stdout.readline().strip()
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM  # no hang on the locks it held
    record = open_store().runs.get(run_id)
    assert record.status == "killed"
    assert record.metrics["i"] >= int(record.tags["i"]) - 1


def test_uncaught_exception_in_a_script_ends_failed(_isolated_store):
    from kernel_magics.core.store import open_store

    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    code = "import kernel_magics as m; r = m.start_run(); print(r.id, flush=True); raise RuntimeError('boom')"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 1 and "RuntimeError: boom" in out.stderr
    record = open_store().runs.get(out.stdout.strip())
    assert record.status == "failed" and "RuntimeError: boom" in record.error


def test_script_that_forgets_end_run_ends_finished(_isolated_store):
    from kernel_magics.core.store import open_store

    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    code = "import kernel_magics as m; r = m.start_run(); m.log_metric('a', 1); print(r.id)"
    run_id = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    record = open_store().runs.get(run_id)
    assert record.status == "finished" and record.metrics == {"a": 1.0}
    assert record.environment_hash is not None  # captured before exit
