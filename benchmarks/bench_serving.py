"""Model-server throughput: jupyter-mlops vs ``mlflow models serve`` on the same sklearn model.

One worker each, single-row requests (``dataframe_split``), 32 concurrent connections to
127.0.0.1, a fixed duration. The load generator is ``wrk`` (``apt-get install wrk``) when it is
on PATH, else a bounded asyncio+httpx client. Prints both servers' requests/s and latency
percentiles side by side with the ratio.

    .venv/bin/python benchmarks/bench_serving.py [--duration 10] [--connections 32]

MLflow comes from the ``bench`` extra (``pip install -e '.[bench]'``); without it only our figures
are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

FEATURES = 8
LUA = """
wrk.method = "POST"
wrk.body   = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
"""


def make_model():
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        rng.normal(size=(2000, FEATURES)), columns=[f"f{i}" for i in range(FEATURES)]
    )
    target = (frame["f0"] + frame["f1"] * 0.5 > 0).astype(int)
    return LogisticRegression(max_iter=500).fit(frame, target), frame


def wait_http(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def run_wrk(url: str, body: str, duration: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA.format(body=body))
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script)

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def run_httpx(url: str, body: str, duration: int, connections: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0

    async def worker(client, deadline):
        nonlocal errors
        while time.monotonic() < deadline:
            start = time.perf_counter()
            resp = await client.post(
                url, content=body, headers={"content-type": "application/json"}
            )
            latencies.append((time.perf_counter() - start) * 1000)
            errors += resp.status_code != 200

    async def main():
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            deadline = time.monotonic() + duration
            started = time.monotonic()
            await asyncio.gather(*(worker(client, deadline) for _ in range(connections)))
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {
        "rps": len(latencies) / elapsed,
        "p50": pick(0.5),
        "p99": pick(0.99),
        "errors": errors,
        "socket_errors": "",
    }


def measure(url: str, body: str, duration: int, connections: int) -> dict:
    # a short warm-up so both servers have imported and JIT-warmed everything
    (run_wrk if shutil.which("wrk") else run_httpx)(url, body, 2, connections)
    return (run_wrk if shutil.which("wrk") else run_httpx)(url, body, duration, connections)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_ours(home: Path, model, frame, body: str, args) -> dict:
    os.environ["MLOPS_HOME"] = str(home)
    import kernel_magics as mlops

    mlops.log_model(model, "bench", input_example=frame, alias="production")
    dep = mlops.deploy("bench@production", port=free_port())
    try:
        return measure(f"{dep.url}/invocations", body, args.duration, args.connections)
    finally:
        mlops.stop_deployment(str(dep.id))


def bench_mlflow(tmp: Path, model, frame, body: str, args) -> dict | None:
    try:
        import mlflow.sklearn
    except ImportError:
        print("mlflow is not installed (pip install -e '.[bench]'): skipping the comparison.")
        return None
    path = tmp / "mlflow-model"
    mlflow.sklearn.save_model(model, str(path), input_example=frame.head(5))
    port = free_port()
    bindir = str(Path(sys.executable).parent)  # mlflow execs `uvicorn` from PATH
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"file://{tmp / 'mlruns'}",
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
    }
    cmd = [
        str(Path(sys.executable).parent / "mlflow"),
        "models",
        "serve",
        "-m",
        str(path),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--env-manager",
        "local",
        "-w",
        "1",
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/ping")
        return measure(
            f"http://127.0.0.1:{port}/invocations", body, args.duration, args.connections
        )
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds per measurement.")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    model, frame = make_model()
    row = frame.iloc[0].tolist()
    body = json.dumps({"dataframe_split": {"columns": list(frame.columns), "data": [row]}})
    tool = "wrk" if shutil.which("wrk") else "httpx (install wrk for a lighter load generator)"
    print(
        f"load: {tool}, {args.connections} connections, {args.duration}s, single-row requests, "
        f"LogisticRegression on {FEATURES} features, one server worker, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ours = bench_ours(tmp / ".mlops", model, frame, body, args)
        theirs = bench_mlflow(tmp, model, frame, body, args)
    print(f"{'server':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, res in (("jupyter-mlops", ours), ("mlflow models serve", theirs)):
        if res:
            print(
                f"{name:<22}{res['rps']:>10.0f}{res['p50']:>10.2f}{res['p99']:>10.2f}"
                f"{res['errors']:>8}  {res['socket_errors']}"
            )
    if theirs:
        print(
            f"ratio (jupyter-mlops / mlflow): {ours['rps'] / theirs['rps']:.1f}x requests/s "
            f"(target >= 10x); our p99 {ours['p99']:.1f} ms (target <= 50 ms)"
        )


if __name__ == "__main__":
    main()
