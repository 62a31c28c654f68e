"""Runs on a real Dask cluster (scheduler and worker processes) sharing a PostgreSQL store."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from kernel_magics.core.runner import run_notebook, sweep_notebook
from kernel_magics.errors import ExecutorError

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = env
        self.procs: list[subprocess.Popen] = []
        self.logs = workdir / "dask-logs"
        self.logs.mkdir(exist_ok=True)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        code = f"from distributed.cli.dask_{name.split('-')[0]} import main; main()"
        proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=self.workdir,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        self.procs.append(proc)
        return proc

    def start_scheduler(self) -> None:
        self._spawn("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                    "--no-dashboard")  # fmt: skip

    def start_worker(self, label: str) -> subprocess.Popen:
        return self._spawn(f"worker-{label}", f"tcp://{self.address}", "--nthreads", "1",
                           "--no-nanny", "--no-dashboard", "--host", "127.0.0.1")  # fmt: skip

    def worker_count(self) -> int:
        from distributed import Client

        with Client(f"tcp://{self.address}", timeout="5s", set_as_default=False) as client:
            return len(client.scheduler_info(n_workers=-1)["workers"])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def pg_store_env(pg_url, monkeypatch, _isolated_store):
    artifacts = _isolated_store / "artifacts"
    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", str(artifacts))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")}
    return env  # the workers get no MLOPS_* settings: the run plan carries the store


@pytest.fixture
def cluster(tmp_path, pg_store_env):
    cluster = Cluster(tmp_path, pg_store_env)
    cluster.start_scheduler()
    yield cluster
    cluster.stop()


def test_run_executes_on_a_worker_and_logs_to_the_shared_store(cluster, tmp_path):
    worker = cluster.start_worker("a")
    wait_for(lambda: _quiet(cluster.worker_count) == 1, 60, "the worker to join")

    result = run_notebook(NOTEBOOKS / "simple.ipynb", {"x": 8}, executor=f"dask://{cluster.address}",
                          output_dir=tmp_path / "out")  # fmt: skip

    assert result.status == "finished", result.error
    from kernel_magics.core.store import open_store

    store = open_store()
    assert store.db.engine.dialect.name == "postgresql"
    record = store.runs.get(result.run_id)
    assert record.metrics == {"double": 16.0}
    assert record.tags["mlops.dask_worker"].startswith("tcp://127.0.0.1:")
    assert "output.ipynb" in {a["path"] for a in record.artifacts}
    assert record.pid == os.getpid()  # this process owns the run's status
    assert worker.poll() is None

    # a sweep spreads its children over the workers
    cluster.start_worker("b")
    wait_for(lambda: _quiet(cluster.worker_count) == 2, 60, "the second worker to join")
    sweep = sweep_notebook(NOTEBOOKS / "metric.ipynb", {"C": [0.1, 0.2, 0.3]}, workers=2,
                           executor=f"dask://{cluster.address}", objective="metrics.score",
                           maximize=True, output_dir=tmp_path / "out")  # fmt: skip
    assert sweep.status == "finished", [c.error for c in sweep.children]
    children = [store.runs.get(c.run_id) for c in sweep.children]
    assert all(c.parent_run_id == sweep.parent_run_id for c in children)
    assert sweep.best_run_id == children[2].id  # score = -(C - 0.3)**2 + 1 is largest at 0.3
    assert len({c.tags["mlops.dask_worker"] for c in children}) == 2


def test_a_killed_worker_leaves_its_run_crashed(cluster, tmp_path):
    from kernel_magics.core.store import open_store

    worker = cluster.start_worker("victim")
    wait_for(lambda: _quiet(cluster.worker_count) == 1, 60, "the worker to join")
    notebook = tmp_path / "sleeps.ipynb"
    shutil.copy(NOTEBOOKS / "sleeps.ipynb", notebook)
    outcome: dict = {}

    def go():
        outcome["result"] = run_notebook(notebook, {"seconds": 300},
                                         executor=f"dask://{cluster.address}",
                                         output_dir=tmp_path / "out")  # fmt: skip

    thread = threading.Thread(target=go)
    thread.start()
    store = open_store()

    def running_on_worker():
        for run_id in store.search_runs().run_ids:
            record = store.runs.get(run_id)
            if record.status == "running" and "mlops.dask_worker" in record.tags:
                out = tmp_path / "out" / f"sleeps-{run_id[:8]}.ipynb"
                if out.is_file() and "sleeping 300" in out.read_text():
                    return run_id
        return None

    run_id = wait_for(running_on_worker, 90, "the notebook to start sleeping on the worker")
    kernels = psutil.Process(worker.pid).children(recursive=True)
    worker.send_signal(signal.SIGKILL)

    thread.join(timeout=60)
    assert not thread.is_alive(), "run_notebook did not return after the worker died"
    result = outcome["result"]
    assert result.run_id == run_id
    assert result.status == "crashed"
    record = store.runs.get(run_id)
    assert record.status == "crashed"
    assert "left the cluster" in record.error
    assert "output.ipynb" in {a["path"] for a in record.artifacts}  # cells executed so far
    # the orphaned kernel notices its parent is gone and exits
    psutil.wait_procs(kernels, timeout=30)
    assert not [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]


def test_unreachable_scheduler_is_a_clear_error(store):
    with pytest.raises(ExecutorError, match="Cannot reach the Dask scheduler"):
        run_notebook(NOTEBOOKS / "simple.ipynb", executor=f"dask://127.0.0.1:{free_port()}")
    assert store.search_runs().run_ids == []


def _quiet(fn):
    try:
        return fn()
    except OSError:
        return None


def test_a_run_ended_by_the_submitter_stops_on_the_worker(cluster, tmp_path):
    from kernel_magics.core.store import open_store

    cluster.start_worker("c")
    wait_for(lambda: _quiet(cluster.worker_count) == 1, 60, "the worker to join")
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(result=run_notebook(
        NOTEBOOKS / "sleeps.ipynb", {"seconds": 300}, executor=f"dask://{cluster.address}",
        output_dir=tmp_path / "out")))  # fmt: skip
    thread.start()
    store = open_store()

    def sleeping_run():
        for run_id in store.search_runs().run_ids:
            out = tmp_path / "out" / f"sleeps-{run_id[:8]}.ipynb"
            if out.is_file() and "sleeping 300" in out.read_text():
                return run_id
        return None

    run_id = wait_for(sleeping_run, 90, "the notebook to start sleeping on the worker")
    # what Ctrl-C in the submitting process does: end the run killed
    assert store.runs.finish(run_id, "killed", "Interrupted (Ctrl-C) while on the cluster.")
    thread.join(timeout=60)
    assert not thread.is_alive(), "the worker kept executing a killed run"
    assert outcome["result"].status == "killed"
    text = (tmp_path / "out" / f"sleeps-{run_id[:8]}.ipynb").read_text()
    assert "KeyboardInterrupt" in text  # the cell was interrupted on the worker
    assert store.runs.get(run_id).status == "killed"
