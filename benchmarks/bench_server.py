"""How fast does the side panel's first page of runs come back?

Seeds one experiment with N runs (default 10,000; 3 params and 3 metrics each, through the core
API), starts a real ``jupyter server`` with the kernel_magics extension on that store, and times
``GET /mlops/api/runs`` for the first page (limit 50) in the orders the panel uses, plus the
same work called in-process (search + row building, no HTTP).

Usage::

    python benchmarks/bench_server.py [--runs 10000] [--repeat 20] [--json out.json]

The issue's budget is 100 ms of server time for the first page of 10,000 runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

EXPERIMENT = "bench"


def seed(home: Path, root: Path, n: int) -> float:
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(home)}))
    rng = random.Random(0)
    t0 = time.perf_counter()
    exp = store.experiments.get_or_create(EXPERIMENT)
    points = []
    base = time.time() - n
    for i in range(n):
        run_id = store.runs.create(
            exp,
            name=f"run-{i}",
            source="sweep",
            params={"C": rng.choice([0.01, 0.1, 1, 10]), "penalty": rng.choice(["l1", "l2"]),
                    "seed": i},
            start_time=base + i,
            notebook_path=str((root / "train.ipynb").resolve()),
        )  # fmt: skip
        for key in ("acc", "f1", "loss"):
            points.append((run_id, key, 0, base + i, rng.random()))
        store.runs.finish(run_id, "finished")
    with store.db.write() as conn:
        store.runs.write_metrics(conn, points)
    return time.perf_counter() - t0


def in_process(home: Path, repeat: int) -> dict[str, float]:
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store
    from kernel_magics.core.store.summaries import run_summaries

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(home)}))
    timings = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        page = store.search_runs(experiments_=[EXPERIMENT], limit=50, offset=0, count=True)
        run_summaries(store, page.run_ids)
        timings.append((time.perf_counter() - t0) * 1000)
    return summarize(timings)


def summarize(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "min_ms": round(ordered[0], 2),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def over_http(home: Path, root: Path, repeat: int) -> dict[str, dict[str, float]]:
    port, token = free_port(), "bench-token"
    env = {**os.environ, "MLOPS_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
         "--ServerApp.jpserver_extensions={'kernel_magics': True}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/mlops/api/runs"
        headers = {"Authorization": f"token {token}"}
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(base + "?limit=1", headers=headers))
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        cases = {
            "newest first": {"experiment": EXPERIMENT, "limit": 50},
            "this notebook (the panel's default)": {"notebook": "train.ipynb", "limit": 50},
            "sorted by metrics.acc DESC": {"experiment": EXPERIMENT, "limit": 50,
                                           "order_by": "metrics.acc DESC"},
            "filter metrics.acc > 0.5 and params.penalty = 'l1'": {
                "experiment": EXPERIMENT, "limit": 50,
                "filter": "metrics.acc > 0.5 and params.penalty = 'l1'"},
            "last page": {"experiment": EXPERIMENT, "limit": 50, "offset": 9950},
        }  # fmt: skip
        results = {}
        for label, query in cases.items():
            url = base + "?" + urllib.parse.urlencode(query)
            timings = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
                    body = json.loads(r.read())
                timings.append((time.perf_counter() - t0) * 1000)
            results[label] = {**summarize(timings), "rows": len(body["runs"]),
                              "total": body["total"]}  # fmt: skip
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, root = Path(tmp) / ".mlops", Path(tmp) / "root"
        root.mkdir()
        seconds = seed(home, root, args.runs)
        results = {
            "runs": args.runs,
            "seed_seconds": round(seconds, 1),
            "in_process_first_page": in_process(home, args.repeat),
            "http": over_http(home, root, args.repeat),
        }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
