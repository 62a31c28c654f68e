"""`mlops import mlflow` of 1,000 runs x 1,000 metric points (+ an artifact each), side by side
with the floor of reading the same store through MLflow's client (`mlflow.search_runs` plus
`get_metric_history` per run, and downloading the artifacts).

The floor is what any importer that reads through MLflow's client must pay; the ratio says how
much our writing adds on top. Both sides run in this one process, alternating, with MLflow
already imported. The MLflow source store is built once (its build time is printed) and reused
from --source on later runs.

    .venv/bin/python benchmarks/bench_mlflow_import.py [--runs 1000] [--points 1000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from common import fmt

warnings.simplefilter("ignore")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def build(uri: str, runs: int, points: int, scratch: Path) -> float:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(uri, uri)
    start = time.perf_counter()
    exp = client.create_experiment("bench", artifact_location=str(scratch / "artifacts"))
    artifact = scratch / "summary.json"
    for i in range(runs):
        run = client.create_run(exp, run_name=f"run-{i}", tags={"mlflow.user": "bench"})
        rid, t0 = run.info.run_id, run.info.start_time
        client.log_batch(rid, params=[Param("C", str(i / 10)), Param("seed", str(i))])
        for lo in range(0, points, 1000):
            client.log_batch(rid, metrics=[Metric("loss", 1 / (s + 1), t0 + s, s)
                                           for s in range(lo, min(points, lo + 1000))])  # fmt: skip
        artifact.write_text(f'{{"run": {i}, "padding": "{"x" * 2000}"}}')
        client.log_artifact(rid, str(artifact))
        client.set_terminated(rid, "FINISHED")
    return time.perf_counter() - start


def floor(uri: str, scratch: Path) -> tuple[float, int]:
    """Read everything an import reads, through MLflow's client, and nothing else."""
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(uri, uri)
    start = time.perf_counter()
    mlflow.set_tracking_uri(uri)
    frame = mlflow.search_runs(search_all_experiments=True)
    n = 0
    for run_id in frame["run_id"]:
        n += len(client.get_metric_history(run_id, "loss"))
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            client.download_artifacts(run_id, "", dst_path=tmp)
    return time.perf_counter() - start, n


def ours(uri: str, scratch: Path) -> tuple[float, int]:
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.interop import ImportOptions, import_mlflow
    from kernel_magics.core.store import close_stores, open_store

    home = Path(tempfile.mkdtemp(dir=scratch))
    os.environ["MLOPS_HOME"] = str(home / ".mlops")
    store = open_store(resolve_location())
    start = time.perf_counter()
    summary = import_mlflow(store, ImportOptions(uri))
    took = time.perf_counter() - start
    close_stores()
    shutil.rmtree(home)
    return took, summary.metric_points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--source", default="/tmp/mlops-bench-mlflow-import")
    args = parser.parse_args()
    for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI"):
        os.environ.pop(var, None)

    source = Path(args.source) / f"{args.runs}x{args.points}"
    uri = f"sqlite:///{source / 'mlflow.db'}"
    ready = source / "READY"
    if not ready.exists():
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        took = build(uri, args.runs, args.points, source)
        ready.write_text(f"{took}\n")
        print(f"built the MLflow store in {fmt(took)} ({args.runs} runs x {args.points} points)")
    scratch = Path(tempfile.mkdtemp(prefix="bench-import-"))
    rows = []
    for i in range(args.repeat):  # alternate, so load changes hit both sides alike
        f, fn = floor(uri, scratch)
        o, on = ours(uri, scratch)
        assert fn == on == args.runs * args.points, (fn, on)
        rows.append((f, o))
        print(f"  round {i + 1}: MLflow read floor {fmt(f)} | our import {fmt(o)} | "
              f"import / floor {o / f:.2f}x", flush=True)  # fmt: skip
    shutil.rmtree(scratch)
    f, o = min(r[0] for r in rows), min(r[1] for r in rows)
    points = args.runs * args.points
    print("\n| measurement | our import | MLflow read floor | import / floor |")
    print("|---|---|---|---|")
    print(f"| {args.runs:,} runs x {args.points:,} points + 1 artifact each (best of "
          f"{args.repeat}) | {fmt(o)} ({points / o:,.0f} points/s) | {fmt(f)} | {o / f:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
