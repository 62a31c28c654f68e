"""How fast does the panel's compare view get its data for 50 runs with 1,000 points a metric?

Seeds 50 runs (4 params, 3 metrics of 1,000 points each, a tracked cell's source), starts a
real ``jupyter server`` with the kernel_magics extension, and times what the compare view asks
for: ``GET run_comparisons?ids=<50 ids>`` (the table: params and metrics side by side, cell
sources) followed by the 150 ``GET runs/{id}/metrics/{key}`` series requests, against the one
request ``GET run_comparisons?ids=...&curves=loss,acc,f1`` that brings the table and every
series. Side by side, in the same process and on the same store: ``core.compare.compare_runs``
(what ``%mlops compare`` computes: curves, environments, diffs against the baseline) and the
panel's ``core.compare.side_by_side``.

Usage::

    python benchmarks/bench_run_comparisons.py [--runs 50] [--points 1000] [--repeat 10]

The issue's budget: the comparison opens in at most 1 s (the browser's part is B's benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_server import free_port, summarize  # noqa: E402

METRICS = ("loss", "acc", "f1")
#: Points a curve the panel's compare view asks for (extension/src/compare CURVE_POINTS).
PANEL_POINTS = 300


def seed(home: Path, runs: int, points: int) -> list[str]:
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(home)}))
    exp = store.experiments.get_or_create("compare")
    ids, now = [], time.time()
    for i in range(runs):
        run_id = store.runs.create(
            exp, name=f"run-{i}", source="cell",
            params={"C": 10 ** (i % 5 - 2), "penalty": "l2", "seed": i, "layers": i % 3},
        )  # fmt: skip
        rows = [
            (run_id, key, step, now + step, (step + 1) ** -0.5 + i / 1000)
            for key in METRICS
            for step in range(points)
        ]
        with store.db.write() as conn:
            store.runs.write_metrics(conn, rows)
        ref = store.blobs.put_bytes(f"fit(C={10 ** (i % 5 - 2)})\n".encode())
        store.artifacts.add(run_id, "cell/source.py", ref, "text/x-python")
        store.runs.finish(run_id, "finished")
        ids.append(run_id)
    return ids


def read_everything_then_slice(store, ids: list[str], key: str, max_points: int) -> dict:
    """The read before thinning moved into the query: every point, thinned in Python after."""
    from itertools import groupby
    from operator import itemgetter

    from sqlalchemy import select

    from kernel_magics.core.store.run_metrics import slice_evenly
    from kernel_magics.core.store.schema import latest_metrics, metrics

    with store.db.read() as conn:
        owners = dict(
            conn.execute(
                select(latest_metrics.c.id, latest_metrics.c.run_id).where(
                    latest_metrics.c.run_id.in_(ids), latest_metrics.c.key == key
                )
            ).all()
        )
        rows = conn.execute(
            select(metrics.c.series_id, metrics.c.step, metrics.c.value)
            .where(metrics.c.series_id.in_(list(owners)))
            .order_by(metrics.c.series_id, metrics.c.step, metrics.c.timestamp)
        ).all()
    return {owners[s]: slice_evenly(list(p), max_points) for s, p in groupby(rows, itemgetter(0))}


def in_process(home: Path, ids: list[str], repeat: int) -> dict[str, dict[str, float]]:
    from kernel_magics.core.compare import CURVE_POINTS, compare_runs, metric_curves, side_by_side
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store
    from kernel_magics.kernel.widgets.run_reports import compare_report

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(home)}))

    def thinned_in_sql(store, ids):
        return [store.runs.metric_histories(ids, k, max_points=PANEL_POINTS) for k in METRICS]

    def thinned_after(store, ids):
        return [read_everything_then_slice(store, ids, k, PANEL_POINTS) for k in METRICS]

    def report_curves_per_metric(store, ids):  # what compare_runs reads now
        return [store.runs.metric_histories(ids, k, max_points=CURVE_POINTS) for k in METRICS]

    def report_curves_per_run(store, ids):  # what compare_runs read before: 150 reads
        return [metric_curves(store, r, [k]) for k in METRICS for r in ids]

    result = compare_runs(store, ids)

    def render_report(store, ids):  # %mlops compare's figure and HTML, from a ready result
        return compare_report(result)._repr_html_()

    found = {}
    for label, fn in (
        ("side_by_side (the panel's table)", side_by_side),
        ("compare_runs (%mlops compare)", compare_runs),
        (f"curves at {PANEL_POINTS} points: thinned in the query", thinned_in_sql),
        (f"curves at {PANEL_POINTS} points: every row read, thinned after", thinned_after),
        (
            f"compare_runs' curves at {CURVE_POINTS} points: one read per metric",
            report_curves_per_metric,
        ),
        (
            f"compare_runs' curves at {CURVE_POINTS} points: one read per run and metric",
            report_curves_per_run,
        ),
        ("compare_report: %mlops compare's figure and HTML", render_report),
    ):
        timings = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(store, ids)
            timings.append((time.perf_counter() - t0) * 1000)
        found[label] = summarize(timings)
    return found


def over_http(home: Path, root: Path, ids: list[str], repeat: int) -> dict[str, dict]:
    port, token = free_port(), "bench-token"
    env = {**os.environ, "MLOPS_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
         "--ServerApp.jpserver_extensions={'kernel_magics': True}",
         "--KernelMagicsApp.run_scheduler=False", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/mlops/api/"
    headers = {"Authorization": f"token {token}"}

    def get(path: str) -> dict:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers)) as r:
            return json.loads(r.read())

    try:
        deadline = time.time() + 60
        while True:
            try:
                get("status")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        table_url = "run_comparisons?" + urllib.parse.urlencode({"ids": ",".join(ids)})
        batched_url = table_url + "&curves=" + ",".join(METRICS)
        panel_url = batched_url + f"&max_points={PANEL_POINTS}"
        table, series, opened, batched, panel = [], [], [], [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            answer = get(panel_url)
            panel.append((time.perf_counter() - t0) * 1000)
            assert all(len(c["steps"]) <= PANEL_POINTS for c in answer["curves"])
            t0 = time.perf_counter()
            answer = get(batched_url)
            batched.append((time.perf_counter() - t0) * 1000)
            assert len(answer["curves"]) == len(ids) * len(METRICS)
            t0 = time.perf_counter()
            data = get(table_url)
            t1 = time.perf_counter()
            for run_id in ids:
                for key in data["common_metric_keys"]:
                    get(f"runs/{run_id}/metrics/{key}")
            t2 = time.perf_counter()
            table.append((t1 - t0) * 1000)
            series.append((t2 - t1) * 1000)
            opened.append((t2 - t0) * 1000)
        return {
            "GET run_comparisons (50 runs)": summarize(table),
            f"{len(ids) * len(METRICS)} series requests, one after another": summarize(series),
            "table + every series": summarize(opened),
            "GET run_comparisons&curves=loss,acc,f1 (table and every series)": summarize(batched),
            f"the same with max_points={PANEL_POINTS} (what the compare view asks)": summarize(
                panel
            ),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, root = Path(tmp) / ".mlops", Path(tmp) / "root"
        root.mkdir()
        ids = seed(home, args.runs, args.points)
        results = {
            "runs": args.runs,
            "points_per_metric": args.points,
            "in_process": in_process(home, ids, args.repeat),
            "http": over_http(home, root, ids, args.repeat),
        }
    side = results["in_process"]
    ratio = (
        side["compare_runs (%mlops compare)"]["median_ms"]
        / side["side_by_side (the panel's table)"]["median_ms"]
    )
    results["ratio compare_runs / side_by_side"] = round(ratio, 1)
    after = side[f"curves at {PANEL_POINTS} points: every row read, thinned after"]["median_ms"]
    in_sql = side[f"curves at {PANEL_POINTS} points: thinned in the query"]["median_ms"]
    results["ratio curves thinned after / in the query"] = round(after / in_sql, 1)
    from kernel_magics.core.compare import CURVE_POINTS

    per_run = side[f"compare_runs' curves at {CURVE_POINTS} points: one read per run and metric"]
    per_metric = side[f"compare_runs' curves at {CURVE_POINTS} points: one read per metric"]
    results["ratio compare_runs' curves per run / per metric"] = round(
        per_run["median_ms"] / per_metric["median_ms"], 1
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
