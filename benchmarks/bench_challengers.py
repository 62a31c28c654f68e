"""Challengers: what shadow mode costs in serving throughput, what the canary split adds to p50.

Side by side on real servers (one worker process each, ``bench_serving.py``'s model and
single-row ``dataframe_split`` requests). Both servers of a comparison run *at the same time*
and the client interleaves them, so the machine's load (other processes on a shared machine)
hits both alike instead of whichever block of seconds it happens to fall in:

1. **Shadow throughput**: ``bench@plain`` (no challenger) and ``bench@production`` with the
   *same model* as a shadow challenger (logged again as version 2, so that server predicts
   every request twice: once on the response path, once on the shadow worker). The client
   alternates ``--slice``-second windows of 32 connections between them; requests/s is the sum
   over all windows of each. Target: shadow costs at most 10 %.
2. **Canary p50**: ``bench@plain`` and ``bench@production`` with the same model as a canary on
   half of the request ids; one connection to each, requests alternating A, B, B, A, ...
   Target: the split adds at most 0.2 ms to p50. The canary server's p50 is also given for
   the requests its champion answers and those its challenger answers (request ids chosen on
   each side of the split), which isolates the cost of answering from the challenger.
3. **The request path in process**: the same ASGI app with no challenger, and with a canary
   of share 0 and of share 1, called in turn without a network (µs per request). This is the
   code the split adds, without the HTTP client's noise.
4. **The split decision**: :meth:`ChallengerRouter.routes` per request id.

Usage::

    .venv/bin/python benchmarks/bench_challengers.py [--duration 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import timeit
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

SHARE = 0.5


def _ids(challenger: bool, n: int = 2000) -> list[str]:
    """Request ids the canary routes to the challenger (True) or keeps on the champion."""
    threshold = int(SHARE * 2**32)
    out, i = [], 0
    while len(out) < n:
        rid = f"bench-{i}"
        if (zlib.crc32(rid.encode("ascii")) < threshold) == challenger:
            out.append(rid)
        i += 1
    return out


def _sequential(urls: dict[str, str], body: str, duration: float, ids: dict) -> dict:
    """One connection per server; requests alternate between them (ABBA order)."""
    import httpx

    names = list(urls)
    latencies: dict[str, list[float]] = {n: [] for n in names}
    clients = {n: httpx.Client(timeout=30) for n in names}
    try:
        deadline, i = time.monotonic() + duration, 0
        while time.monotonic() < deadline:
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                pool = ids.get(name)
                headers = {"content-type": "application/json"}
                headers["x-request-id"] = pool[i % len(pool)] if pool else f"r{i}"
                start = time.perf_counter()
                resp = clients[name].post(urls[name], content=body, headers=headers)
                latencies[name].append((time.perf_counter() - start) * 1000)
                if resp.status_code != 200:
                    raise RuntimeError(f"{name}: HTTP {resp.status_code} {resp.text[:200]}")
            i += 1
    finally:
        for client in clients.values():
            client.close()
    return {n: statistics.median(v) for n, v in latencies.items()}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _throughput(
    urls: dict[str, str], pids: dict[str, int], body: str, duration: float, slice_s: float
) -> dict:
    """Alternate ``slice_s`` windows of 32 connections between the servers.

    Returns requests/s of each, and the server's CPU µs per request (``cpu_us:NAME``): with
    one Python client on the same machine, the client saturates before the server does, so
    requests/s says little about what the server spends; its own CPU time per request does.
    """
    import bench_serving

    done = {n: 0.0 for n in urls}
    spent = {n: 0.0 for n in urls}
    cpu = {n: 0.0 for n in urls}
    deadline, i = time.monotonic() + 2 * duration, 0
    while time.monotonic() < deadline:
        names = list(urls) if i % 2 == 0 else list(urls)[::-1]
        for name in names:
            start, used = time.monotonic(), _cpu_seconds(pids[name])
            result = bench_serving.run_httpx(urls[name], body, slice_s, 32)
            took = time.monotonic() - start
            time.sleep(0.1)  # the shadow worker's last batch of this window
            cpu[name] += _cpu_seconds(pids[name]) - used
            done[name] += result["rps"] * took
            spent[name] += took
            if result["errors"]:
                raise RuntimeError(f"{name}: {result['errors']} failed requests")
        i += 1
    out = {n: done[n] / spent[n] for n in urls}
    out.update({f"cpu_us:{n}": cpu[n] / done[n] * 1e6 for n in urls})
    return out


def _pid(dep) -> int:
    """The pid of the server now serving ``dep``'s model@alias (a challenger replaced it)."""
    from kernel_magics.core.store import open_store

    [live] = open_store().deployments.find(dep.model, dep.alias, live_only=True)
    return live.pid


def _servers(mode: str):
    """bench@plain and bench@production (with a ``mode`` challenger v2), both running."""
    import bench_serving

    import kernel_magics as mlops
    from kernel_magics.core.serving.challengers import deploy_challenger

    plain = mlops.deploy("bench@plain", port=bench_serving.free_port())
    prod = mlops.deploy("bench@production", port=bench_serving.free_port())
    deploy_challenger("bench@production", "bench/2", mode=mode, share=SHARE)
    return plain, prod


def _stop() -> None:
    import kernel_magics as mlops
    from kernel_magics.core.serving.challengers import stop_challenger

    stop_challenger("bench@production")
    for target in ("bench@production", "bench@plain"):
        mlops.stop_deployment(target)


def run(duration: int, rounds: int, slice_s: float) -> dict[str, list[dict]]:
    """Shadow throughput and canary p50 per round, on servers measured side by side."""
    import bench_serving

    import kernel_magics as mlops
    from kernel_magics.core.serving.challengers import challenger_status

    model, frame = bench_serving.make_model()
    body = json.dumps({"dataframe_split": {"columns": list(frame.columns),
                                           "data": [frame.iloc[0].tolist()]}})  # fmt: skip
    out: dict[str, list[dict]] = {"shadow": [], "canary": []}
    with tempfile.TemporaryDirectory() as home:
        os.environ["MLOPS_HOME"] = str(Path(home) / ".mlops")
        mlops.log_model(model, "bench", input_example=frame, alias="production")
        mlops.log_model(model, "bench", input_example=frame)  # the same model as version 2
        mlops.set_alias("bench", "plain", 1)
        for _ in range(rounds):
            plain, prod = _servers("shadow")
            try:
                urls = {"plain": f"{plain.url}/invocations", "shadow": f"{prod.url}/invocations"}
                bench_serving.run_httpx(urls["plain"], body, 2, 32)  # warm-up
                bench_serving.run_httpx(urls["shadow"], body, 2, 32)
                pids = {"plain": _pid(plain), "shadow": _pid(prod)}
                result = _throughput(urls, pids, body, duration, slice_s)
                status = challenger_status("bench@production")
                result.update(dropped=status.stats.dropped, agreement=status.agreement,
                              shadowed=status.stats.challenger_requests)  # fmt: skip
                out["shadow"].append(result)
                print(f"  shadow: {result}", flush=True)
            finally:
                _stop()
            plain, prod = _servers("canary")
            try:
                url = f"{prod.url}/invocations"
                urls = {"plain": f"{plain.url}/invocations", "canary": url}
                _sequential(urls, body, 2, {})  # warm-up
                result = _sequential(urls, body, duration, {})
                sides = {"champion": url, "challenger": url}
                result.update({f"canary-{k}": v for k, v in _sequential(
                    sides, body, duration / 2,
                    {"champion": _ids(False), "challenger": _ids(True)}).items()})  # fmt: skip
                out["canary"].append(result)
                print(f"  canary: {result}", flush=True)
            finally:
                _stop()
    return out


def in_process_us(n: int = 3000) -> dict[str, float]:
    """µs per request through the ASGI app: no challenger, canary share 0, canary share 1."""
    import warnings

    import bench_serving

    import kernel_magics as mlops
    from kernel_magics.core.registry import load_model_version
    from kernel_magics.core.serving.app import create_app
    from kernel_magics.core.serving.challenger_router import ChallengerRouter
    from kernel_magics.core.serving.scoring import Scorer
    from kernel_magics.core.serving.server import build_state
    from kernel_magics.core.store.challengers import ChallengerRecord

    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    model, frame = bench_serving.make_model()
    body = json.dumps({"dataframe_split": {"columns": list(frame.columns),
                                           "data": [frame.iloc[0].tolist()]}}).encode()  # fmt: skip

    def app(share: float | None):
        state = build_state(load_model_version("bench/1"), feature_name_warnings_filtered=True)
        if share is not None:
            record = ChallengerRecord(
                id=1, model="bench", alias="production", champion_version_id=1,
                challenger_version_id=2, champion_version=1, challenger_model="bench",
                challenger_version=2, mode="canary", share=share, guards=[], guard_for_s=0,
                notify=[], allow_pickle=False, status="running", guard_state="watching",
                reason=None, deployment_id=None, started_at=time.time(), ended_at=None,
            )  # fmt: skip
            scorer = Scorer(load_model_version("bench/2"), feature_name_warnings_filtered=True)
            state.challenger = ChallengerRouter(record, scorer, start_threads=False)
        return create_app(state)

    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip

    async def call(asgi, rid: str) -> None:
        sent = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/invocations",
                 "headers": [*headers, (b"x-request-id", rid.encode())]}  # fmt: skip
        await asgi(scope, receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"in-process request failed: {sent}")

    async def measure() -> dict[str, float]:
        apps = {"none": app(None), "canary share 0": app(0.0), "canary share 1": app(1.0)}
        times: dict[str, list[float]] = {k: [] for k in apps}
        for i in range(n + 300):
            for name, asgi in apps.items():
                start = time.perf_counter()
                await call(asgi, f"r{i}")
                if i >= 300:  # the first calls build the middleware stack
                    times[name].append(time.perf_counter() - start)
        return {k: statistics.median(v) * 1e6 for k, v in times.items()}

    with tempfile.TemporaryDirectory() as home:
        os.environ["MLOPS_HOME"] = str(Path(home) / ".mlops")
        mlops.log_model(model, "bench", input_example=frame, alias="production")
        mlops.log_model(model, "bench", input_example=frame)
        return asyncio.run(measure())


def shadow_cpu_us(n: int = 4000, concurrency: int = 32, repeats: int = 3) -> dict[str, float]:
    """Server CPU µs per request (all threads) without a challenger and with a shadow one.

    Requests go ``concurrency`` at a time through the ASGI app, as on a saturated server (the
    champion's MicroBatcher predicts each wave in one call); the shadow worker thread runs as
    in the server. A saturated server's throughput is the inverse of this figure, and CPU time
    moves much less with the machine's load than wall-clock throughput does.
    """
    import warnings

    import bench_serving

    import kernel_magics as mlops
    from kernel_magics.core.registry import load_model_version
    from kernel_magics.core.serving.app import create_app
    from kernel_magics.core.serving.challenger_router import ChallengerRouter
    from kernel_magics.core.serving.scoring import Scorer
    from kernel_magics.core.serving.server import build_state
    from kernel_magics.core.store.challengers import ChallengerRecord

    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    model, frame = bench_serving.make_model()
    body = json.dumps({"dataframe_split": {"columns": list(frame.columns),
                                           "data": [frame.iloc[0].tolist()]}}).encode()  # fmt: skip
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip

    async def call(asgi) -> None:
        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise RuntimeError(f"in-process request failed: {message}")

        await asgi({"type": "http", "method": "POST", "path": "/invocations",
                    "headers": headers}, receive, send)  # fmt: skip

    async def measure(shadow: bool) -> float:
        state = build_state(load_model_version("bench/1"), feature_name_warnings_filtered=True)
        router = None
        if shadow:
            record = ChallengerRecord(
                id=1, model="bench", alias="production", champion_version_id=1,
                challenger_version_id=2, champion_version=1, challenger_model="bench",
                challenger_version=2, mode="shadow", share=0.0, guards=[], guard_for_s=0,
                notify=[], allow_pickle=False, status="running", guard_state="watching",
                reason=None, deployment_id=None, started_at=time.time(), ended_at=None,
            )  # fmt: skip
            scorer = Scorer(load_model_version("bench/2"), feature_name_warnings_filtered=True)
            router = state.challenger = ChallengerRouter(record, scorer)
        asgi = create_app(state)
        waves = n // concurrency
        for _ in range(10):  # warm-up
            await asyncio.gather(*(call(asgi) for _ in range(concurrency)))
        while router is not None and router._queue:
            await asyncio.sleep(0.01)
        start = time.process_time()
        for _ in range(waves):
            await asyncio.gather(*(call(asgi) for _ in range(concurrency)))
            await asyncio.sleep(0)
        while router is not None and router._queue:  # the shadow work is part of the cost
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # a batch still being predicted
        used = time.process_time() - start
        if router is not None:
            router.close()
        return used / (waves * concurrency) * 1e6

    with tempfile.TemporaryDirectory() as home:
        os.environ["MLOPS_HOME"] = str(Path(home) / ".mlops")
        mlops.log_model(model, "bench", input_example=frame, alias="production")
        mlops.log_model(model, "bench", input_example=frame)
        out: dict[str, list[float]] = {"none": [], "shadow": []}
        for _ in range(repeats):
            for name in out:
                out[name].append(asyncio.run(measure(name == "shadow")))
        return {k: min(v) for k, v in out.items()}


def split_decision_us() -> float:
    """Microseconds of one canary decision (CRC32 of a request id against the threshold)."""
    from kernel_magics.core.serving.challenger_router import ChallengerRouter

    router = ChallengerRouter.__new__(ChallengerRouter)
    router.active, router.threshold = True, int(SHARE * 2**32)
    rid = "5f0c9d2e8a1b4c3d9e7f6a5b4c3d2e1f"
    n = 200_000
    return min(timeit.repeat(lambda: router.routes(rid), number=n, repeat=5)) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds per measurement.")
    parser.add_argument("--rounds", type=int, default=2, help="Rounds (fresh servers each).")
    parser.add_argument("--slice", type=float, default=1.0,
                        help="Seconds of load on one server before switching to the other.")  # fmt: skip
    parser.add_argument("--in-process", action="store_true",
                        help="Only the in-process figures (no servers, a minute).")  # fmt: skip
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    if args.in_process:
        _in_process()
        return
    res = run(args.duration, args.rounds, args.slice)
    med = lambda mode, key: statistics.median(r[key] for r in res[mode])  # noqa: E731
    cost = 1 - med("shadow", "shadow") / med("shadow", "plain")
    cpu_cost = 1 - med("shadow", "cpu_us:plain") / med("shadow", "cpu_us:shadow")
    added = med("canary", "canary") - med("canary", "plain")
    print(f"\nshadow throughput: {med('shadow', 'plain'):.0f} req/s without, "
          f"{med('shadow', 'shadow'):.0f} with the same model as shadow challenger: costs "
          f"{cost:.1%} (target <= 10 %)")  # fmt: skip
    print(f"server CPU per request: {med('shadow', 'cpu_us:plain'):.0f} µs without, "
          f"{med('shadow', 'cpu_us:shadow'):.0f} µs with the shadow: a saturated server would "
          f"lose {cpu_cost:.1%} of its throughput")  # fmt: skip
    print(f"canary p50 (1 connection each, interleaved): {med('canary', 'plain'):.3f} ms "
          f"without, {med('canary', 'canary'):.3f} ms with a 50 % canary: adds {added:.3f} ms "
          f"(target <= 0.2 ms); in the canary server, requests its champion answers "
          f"{med('canary', 'canary-champion'):.3f} ms, its challenger "
          f"{med('canary', 'canary-challenger'):.3f} ms")  # fmt: skip
    _in_process()


def _in_process() -> None:
    inproc = in_process_us()
    print(
        "request path in process (µs per request, interleaved): "
        + ", ".join(f"{k} {v:.1f}" for k, v in inproc.items())
    )
    cpu = shadow_cpu_us()
    print(f"server CPU per request, 32 at a time: {cpu['none']:.0f} µs without, "
          f"{cpu['shadow']:.0f} µs with the same model as shadow: shadow costs "
          f"{1 - cpu['none'] / cpu['shadow']:.1%} of a saturated server's throughput")  # fmt: skip
    print(f"split decision in process: {split_decision_us():.3f} us per request")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
