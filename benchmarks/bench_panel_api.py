"""How fast do the side panel's models, deployments and schedules views get their data?

Seeds a store with 100 models x 20 versions (each version with its run and two metrics, the
newest two behind ``production``/``staging``), 50 deployments (10 recorded running with a live
process but no listening server, so every list asks ten /health endpoints; 15 minutes of
monitoring buckets and prediction log on one) and 200 schedules (one with 20 slots of history),
starts a real ``jupyter server`` with the kernel_magics extension on it (its in-server scheduler
off), and times each view's request: the first one after start-up (the store is already open:
one ``GET status`` warms it) and the median of the repeats.

When MLflow is importable here (the ``bench`` extra) or ``MLFLOW_PYTHON`` names an interpreter
that has it, the same 100 x 20 registry (versions without runs: MLflow's searches do not read
them) is created in an MLflow SQLite store, ``mlflow server``
is started on it, and its REST ``registered-models/search`` and ``model-versions/search`` are
timed side by side with our ``GET models`` and ``GET models/{name}/versions``.

Usage::

    python benchmarks/bench_panel_api.py [--repeat 20] [--no-mlflow] [--json out.json]

The issue's budget is 100 ms of server time for each view's first request.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
import urllib.request
from pathlib import Path

MODELS, VERSIONS, DEPLOYMENTS, LIVE, SCHEDULES = 100, 20, 50, 10, 200
TARGET_MS = 100.0
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "p", "outputs": [],
         "metadata": {"tags": ["parameters"]}, "source": "C = 0.1\npenalty = 'l2'\nepochs = 10"},
        {"cell_type": "code", "execution_count": None, "id": "t", "outputs": [], "metadata": {},
         "source": "print(C, penalty, epochs)"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}  # fmt: skip


def seed(home: Path, root: Path) -> tuple[float, list[subprocess.Popen]]:
    """Fill the store; return the seconds it took and the stand-in server processes."""
    import pandas as pd

    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.monitoring.counts import latency_counts
    from kernel_magics.core.registry.signature import infer_signature
    from kernel_magics.core.store import open_store
    from kernel_magics.core.store.schedules import ScheduleOptions

    t0 = time.perf_counter()
    store = open_store(resolve_location(environ={"MLOPS_HOME": str(home)}))
    frame = pd.DataFrame({"tenure": [1, 2], "charges": [70.0, 80.5], "plan": ["a", "b"]})
    signature = infer_signature(frame, [0, 1])
    blob = store.blobs.put_bytes(b"not a real model: the views never load it")
    exp = store.experiments.get_or_create("bench")
    base = time.time() - MODELS * VERSIONS
    version_ids: list[tuple[int, int]] = []
    points = []
    for m in range(MODELS):
        name = f"model-{m:03d}"
        for v in range(1, VERSIONS + 1):
            run_id = store.runs.create(exp, name=f"{name}-v{v}", source="api",
                                       params={"C": v}, start_time=base)  # fmt: skip
            points += [(run_id, "acc", 0, base, 0.5 + v / 100), (run_id, "loss", 0, base, 1 / v)]
            store.runs.finish(run_id, "finished")
            record = store.models.create_version(
                name, blob, flavor="sklearn", format="skops", signature=signature,
                profile=None, run_id=run_id, description=f"version {v}",
                tags={"team": "bench"},
            )  # fmt: skip
            version_ids.append((record.id, v))
            base += 1
        store.models.set_alias(name, "staging", VERSIONS - 1)
        store.models.set_alias(name, "production", VERSIONS - 2)
        store.models.set_alias(name, "production", VERSIONS)
    with store.db.write() as conn:
        store.runs.write_metrics(conn, points)

    sleepers = []
    for d in range(DEPLOYMENTS):
        vid = version_ids[d * VERSIONS + VERSIONS - 1][0]
        live = d < LIVE
        pid = None
        if live:  # alive, so shown running, and asked for /health on a port nobody serves
            proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
            sleepers.append(proc)
            pid = proc.pid
        dep = store.deployments.create(vid, "production", "127.0.0.1", 20000 + d, pid=pid,
                                       status="running" if live else "stopped")  # fmt: skip
        store.deployments.update(dep, "options", json.dumps({"sample_rate": 0.1}))
        if d == 0:
            traffic_dep, traffic_vid = dep, vid
    now = time.time()
    minute = (now // 60) * 60
    for i in range(15):
        start = minute - (15 - i) * 60
        store.monitoring.add_bucket(
            traffic_vid, source="serving", start=start, seconds=60, requests=600, errors=3,
            rows=600, latency=latency_counts([2.0 + (j % 50) / 10 for j in range(600)]),
            features={}, prediction=None, deployment_id=traffic_dep,
        )  # fmt: skip
    store.predictions.write(
        [
            {
                "deployment_id": traffic_dep,
                "model_version_id": traffic_vid,
                "at": minute + j / 10,
                "latency_ms": 3.0,
                "status_code": 200,
            }
            for j in range(60)
        ]  # fmt: skip
    )

    notebook = root / "train.ipynb"
    notebook.write_text(json.dumps(NOTEBOOK))
    crons = ("0 3 * * *", "*/15 * * * *", "@hourly", "30 6 * * mon-fri")
    for s in range(SCHEDULES):
        options = ScheduleOptions(cron=crons[s % 4], timezone="Europe/Paris",
                                  parameters={"C": s / 10})  # fmt: skip
        record = store.schedules.create(f"job-{s:03d}", str(notebook), options, now=now - 86400)
        if s == 0:
            for k in range(20):
                store.slots.add_manual(record, now - 3600 * (k + 1))
    return time.perf_counter() - t0, sleepers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict[str, str]) -> tuple[float, object]:
    """Milliseconds of one GET (localhost round trip, so server time plus a little) and its JSON."""
    t0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        body = json.loads(response.read())
    return (time.perf_counter() - t0) * 1000, body


def wait_up(url: str, headers: dict[str, str], seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            get(url, headers)
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def time_views(views: dict[str, str], base: str, headers: dict, repeat: int) -> dict[str, dict]:
    results = {}
    for label, path in views.items():
        first, body = get(base + path, headers)
        rest = [get(base + path, headers)[0] for _ in range(repeat)]
        results[label] = {"first_ms": round(first, 1), "median_ms": round(statistics.median(rest), 1),
                          "bytes": len(json.dumps(body))}  # fmt: skip
        print(f"  {label}: first {first:.1f} ms, median {statistics.median(rest):.1f} ms",
              flush=True)  # fmt: skip
    return results


def ours(home: Path, root: Path, repeat: int) -> dict[str, dict]:
    port, token = free_port(), "bench-token"
    env = {**os.environ, "MLOPS_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
         "--ServerApp.jpserver_extensions={'kernel_magics': True}",
         "--KernelMagicsApp.run_scheduler=False", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/mlops/api/"
        headers = {"Authorization": f"token {token}"}
        wait_up(base + "status", headers)
        views = {
            "GET models (first page of 100)": "models?limit=50",
            "GET models/{name}/versions (20)": "models/model-042/versions",
            "GET models/{name}/versions/{v} (lineage)": "models/model-042/versions/20",
            "GET models/{name}/alias_history": "models/model-042/alias_history",
            "GET deployments (50, 10 live asked for /health)": "deployments?limit=50",
            "GET deployments/{id}": "deployments/1",
            "GET deployments/{id}/traffic (15 min)": "deployments/1/traffic?minutes=15",
            "GET deployments/{id}/log": "deployments/1/log?lines=200",
            "GET schedules (first page of 200)": "schedules?limit=50",
            "GET schedules (all 200)": "schedules?limit=200",
            "GET schedules/{id}/history": "schedules/1/history",
            "GET notebook_parameters": "notebook_parameters?path=train.ipynb",
        }
        return time_views(views, base, headers, repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)


MLFLOW_SEED = textwrap.dedent(
    """
    import sys
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=sys.argv[1], registry_uri=sys.argv[1])
    for m in range({models}):
        name = f"model-{{m:03d}}"
        client.create_registered_model(name, description="bench")
        for v in range({versions}):
            client.create_model_version(name, f"file:///models/{{name}}/{{v}}",
                                        description=f"version {{v}}", tags={{"team": "bench"}})
        client.set_registered_model_alias(name, "staging", {versions} - 1)
        client.set_registered_model_alias(name, "production", {versions})
    """
).format(models=MODELS, versions=VERSIONS)


def mlflow_python() -> str | None:
    if importlib.util.find_spec("mlflow") is not None:
        return sys.executable
    return os.environ.get("MLFLOW_PYTHON")


def theirs(python: str, folder: Path, repeat: int) -> dict[str, dict]:
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    t0 = time.perf_counter()
    subprocess.run([python, "-c", MLFLOW_SEED, uri], check=True, capture_output=True)
    print(f"  MLflow store seeded in {time.perf_counter() - t0:.1f} s", flush=True)
    port = free_port()
    server = subprocess.Popen(
        [python, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1",
         "--default-artifact-root", str(folder / "mlartifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers and job consumers are stopped with it
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/api/2.0/mlflow/"
        wait_up(base + "registered-models/search?max_results=1", {}, seconds=600)
        filter_ = urllib.parse.quote("name='model-042'")
        views = {
            "GET models (first page of 100)": "registered-models/search?max_results=50",
            "GET models/{name}/versions (20)": f"model-versions/search?filter={filter_}"
            "&max_results=50",
        }
        return time_views(views, base, {}, repeat)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def markdown(results: dict) -> str:
    lines = ["| view | first request | median | MLflow first | MLflow median | target |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for label, row in results["ours"].items():
        other = results.get("mlflow", {}).get(label)
        them = (f"{other['first_ms']} ms", f"{other['median_ms']} ms") if other else ("-", "-")
        met = "yes" if row["first_ms"] <= TARGET_MS else "**no**"
        lines.append(f"| {label} | {row['first_ms']} ms | {row['median_ms']} ms | {them[0]} | "
                     f"{them[1]} | ≤ {TARGET_MS:g} ms: {met} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-mlflow", action="store_true", help="time our server only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        home, root = Path(tmp) / ".mlops", Path(tmp) / "root"
        root.mkdir()
        seconds, sleepers = seed(home, root)
        print(f"  store seeded in {seconds:.1f} s", flush=True)
        try:
            results["ours"] = ours(home, root, args.repeat)
        finally:
            for proc in sleepers:
                proc.kill()
                proc.wait()
        python = None if args.no_mlflow else mlflow_python()
        if python:
            results["mlflow"] = theirs(python, Path(tmp), args.repeat)
        elif not args.no_mlflow:
            print("MLflow not found (install the bench extra or set MLFLOW_PYTHON)", flush=True)
    print(json.dumps(results, indent=2))
    print(markdown(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
