"""Tracking API: jupyter-mlops vs MLflow, both on a local SQLite store, in one run.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_tracking.py`). Needs the `bench`
extra (MLflow). Prints a Markdown table; copy it into benchmarks/README.md.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Table, best_of, subprocess_value, timed  # noqa: E402

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
os.environ["GIT_PYTHON_REFRESH"] = "quiet"

IMPORT = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"

FIRST_METRIC_OURS = """
import time, sys; t = time.perf_counter()
import kernel_magics as mlops
with mlops.start_run():
    mlops.log_metric("acc", 0.5)
print(time.perf_counter() - t)
"""
FIRST_METRIC_MLFLOW = """
import time, sys; t = time.perf_counter()
import mlflow
mlflow.set_tracking_uri("sqlite:///{db}")
with mlflow.start_run():
    mlflow.log_metric("acc", 0.5)
print(time.perf_counter() - t)
"""


def fresh_dir() -> str:
    return tempfile.mkdtemp(prefix="mlops-bench-")


def bench_imports(table: Table) -> None:
    ours = best_of(lambda: subprocess_value(IMPORT.format(mod="kernel_magics")))
    theirs = best_of(lambda: subprocess_value(IMPORT.format(mod="mlflow")))
    table.add("import", ours, theirs, "≤ 0.1 s")


def bench_first_metric(table: Table) -> None:
    def ours() -> float:
        home = fresh_dir()
        return subprocess_value(
            FIRST_METRIC_OURS, env={**os.environ, "MLOPS_HOME": f"{home}/.mlops"}, cwd=home
        )

    def theirs() -> float:
        home = fresh_dir()
        return subprocess_value(FIRST_METRIC_MLFLOW.format(db=f"{home}/mlflow.db"), cwd=home)

    table.add(
        "fresh process: create store, log one metric",
        best_of(ours, 3),
        best_of(theirs, 3),
        "≤ 0.4 s",
    )


def bench_in_process(table: Table) -> None:
    import mlflow

    import kernel_magics as mlops
    from kernel_magics.core.store.writer import flush_all

    home = fresh_dir()
    os.environ["MLOPS_HOME"] = f"{home}/.mlops"
    mlflow.set_tracking_uri(f"sqlite:///{home}/mlflow.db")
    mlflow.set_experiment("bench")
    with mlops.start_run(experiment="bench"):  # warm-up: schema, experiment cache
        pass

    n = 200

    def ours_empty() -> float:
        start = time.perf_counter()
        for _ in range(n):
            with mlops.start_run(experiment="bench"):
                pass
        return (time.perf_counter() - start) / n

    def theirs_empty() -> float:
        start = time.perf_counter()
        for _ in range(n // 10):
            with mlflow.start_run():
                pass
        return (time.perf_counter() - start) / (n // 10)

    table.add("empty run start + end", best_of(ours_empty, 3), best_of(theirs_empty, 3), "≤ 1 ms")

    points = 100_000
    with mlops.start_run(experiment="bench"):
        flush_all()
        start = time.perf_counter()
        for i in range(points):
            mlops.log_metric("loss", i * 0.5, step=i)
        per_call = (time.perf_counter() - start) / points
        flush_all()
    with mlflow.start_run():
        calls = 300
        start = time.perf_counter()
        for i in range(calls):
            mlflow.log_metric("loss", i * 0.5, step=i)
        theirs_call = (time.perf_counter() - start) / calls
    table.add("log_metric per call (amortized)", per_call, theirs_call, "≤ 5 µs")

    def ours_durable() -> float:
        with mlops.start_run(experiment="bench"):
            flush_all()
            start = time.perf_counter()
            for i in range(points):
                mlops.log_metric("loss", i * 0.5, step=i)
            flush_all()  # durable: committed to the database
            return time.perf_counter() - start

    def theirs_durable() -> float:
        from mlflow.entities import Metric

        client = mlflow.MlflowClient()
        with mlflow.start_run() as run:
            now = int(time.time() * 1000)
            start = time.perf_counter()
            batch = []
            for i in range(points):
                batch.append(Metric("loss", i * 0.5, now, i))
                if len(batch) == 1000:  # MLflow's per-request limit
                    client.log_batch(run.info.run_id, metrics=batch)
                    batch = []
            return time.perf_counter() - start

    table.add(
        "100,000 metric points logged and durable",
        best_of(ours_durable, 3),
        theirs_durable(),
        "≤ 0.15 s",
    )


def populate_ours(home: str, n_runs: int) -> None:
    """Bulk-insert n_runs finished runs (params C, penalty; metrics acc, loss) into our store."""
    os.environ["MLOPS_HOME"] = f"{home}/.mlops"
    from kernel_magics.core.store import close_stores, open_store
    from kernel_magics.core.store.schema import latest_metrics, metrics, params, runs

    store = open_store()
    exp = store.experiments.get_or_create("search")
    rng = random.Random(0)
    now = time.time()
    for start in range(0, n_runs, 5000):
        rows, prows, mrows = [], [], []
        for i in range(start, min(start + 5000, n_runs)):
            rid = uuid.uuid4().hex
            rows.append({"id": rid, "experiment_id": exp, "name": f"r{i}", "status": "finished", "source": "api",
                         "start_time": now - i, "end_time": now - i + 1, "heartbeat_at": now - i + 1})  # fmt: skip
            prows += [{"run_id": rid, "key": "C", "value": str(rng.choice([0.01, 0.1, 1.0, 10.0]))},
                      {"run_id": rid, "key": "penalty", "value": rng.choice(["l1", "l2"])}]  # fmt: skip
            for key in ("acc", "loss"):
                series = len(mrows) + start * 2 + 1  # explicit series ids, one per (run, key)
                mrows.append({"id": series, "run_id": rid, "key": key, "step": 0, "timestamp": now,
                              "value": rng.random()})  # fmt: skip
        with store.db.write() as conn:
            conn.execute(runs.insert(), rows)
            conn.execute(params.insert(), prows)
            conn.execute(latest_metrics.insert(), mrows)
            points = [
                {"series_id": m["id"], "step": 0, "timestamp": now, "value": m["value"]}
                for m in mrows
            ]
            conn.execute(metrics.insert(), points)
    close_stores()


def populate_mlflow(home: str, n_runs: int) -> str:
    """Bulk-insert the same runs into an MLflow SQLite store through MLflow's own models."""
    import mlflow
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun
    from sqlalchemy import create_engine

    uri = f"sqlite:///{home}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    exp_id = mlflow.create_experiment("search")
    engine = create_engine(uri)
    rng = random.Random(0)
    now = int(time.time() * 1000)
    for start in range(0, n_runs, 5000):
        runs, params, metrics = [], [], []
        for i in range(start, min(start + 5000, n_runs)):
            rid = uuid.uuid4().hex
            runs.append({"run_uuid": rid, "name": f"r{i}", "source_type": "LOCAL", "source_name": "", "entry_point_name": "",
                         "user_id": "bench", "status": "FINISHED", "start_time": now - i, "end_time": now - i + 1,
                         "source_version": "", "lifecycle_stage": "active", "artifact_uri": "", "experiment_id": int(exp_id)})  # fmt: skip
            params += [{"run_uuid": rid, "key": "C", "value": str(rng.choice([0.01, 0.1, 1.0, 10.0]))},
                       {"run_uuid": rid, "key": "penalty", "value": rng.choice(["l1", "l2"])}]  # fmt: skip
            for key in ("acc", "loss"):
                metrics.append(
                    {
                        "run_uuid": rid,
                        "key": key,
                        "value": rng.random(),
                        "timestamp": now,
                        "step": 0,
                        "is_nan": False,
                    }
                )
        with engine.begin() as conn:
            conn.execute(SqlRun.__table__.insert(), runs)
            conn.execute(SqlParam.__table__.insert(), params)
            conn.execute(SqlMetric.__table__.insert(), metrics)
            conn.execute(SqlLatestMetric.__table__.insert(), metrics)
    engine.dispose()
    return exp_id


def bench_search(table: Table, n_runs: int) -> None:
    import mlflow

    import kernel_magics as mlops
    from kernel_magics.core.store import close_stores

    home = fresh_dir()
    populate_ours(home, n_runs)
    exp_id = populate_mlflow(home, n_runs)
    os.environ["MLOPS_HOME"] = f"{home}/.mlops"
    close_stores()
    flt = "metrics.acc > 0.99 and params.penalty = 'l2'"
    mlops.runs(experiment="search", filter=flt)  # warm-up (imports, caches)
    mlflow.search_runs([exp_id], filter_string=flt, max_results=50_000)

    ours = best_of(lambda: timed(lambda: mlops.runs(experiment="search", filter=flt)))
    theirs = best_of(
        lambda: timed(lambda: mlflow.search_runs([exp_id], filter_string=flt, max_results=50_000)),
        3,
    )
    target = "≤ 50 ms" if n_runs <= 10_000 else "≤ 200 ms"
    matched = len(mlops.runs(experiment="search", filter=flt))
    table.add(
        f"runs() filtered on a metric, {n_runs:,} runs ({matched} match)", ours, theirs, target
    )
    if n_runs <= 10_000:
        ours_top = best_of(
            lambda: timed(
                lambda: mlops.runs(experiment="search", order_by=["metrics.acc DESC"], limit=10)
            )
        )
        theirs_top = best_of(
            lambda: timed(
                lambda: mlflow.search_runs([exp_id], order_by=["metrics.acc DESC"], max_results=10)
            ),
            3,
        )
        table.add(f"top-10 by a metric, {n_runs:,} runs", ours_top, theirs_top, "≤ 20 ms")
    close_stores()


def main() -> None:
    import platform

    import mlflow

    table = Table("jupyter-mlops", "MLflow")
    print(
        f"# Tracking benchmark — Python {platform.python_version()}, MLflow {mlflow.__version__}, {os.cpu_count()} cores"
    )
    bench_imports(table)
    bench_first_metric(table)
    bench_in_process(table)
    bench_search(table, 10_000)
    bench_search(table, 100_000)
    print()
    print(table.markdown())


if __name__ == "__main__":
    main()
