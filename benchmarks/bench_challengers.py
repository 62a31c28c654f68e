"""Challengers: what shadow mode costs in serving throughput, what the canary split adds to p50.

Side by side in one run, on real servers (one worker each, ``bench_serving.py``'s model and
single-row ``dataframe_split`` requests), each configuration on a fresh deployment, alternating
rounds so machine load hits all alike:

1. **Shadow throughput**: requests/s at 32 connections without a challenger and with the
   *same model* as a shadow challenger (logged again as version 2, so the server predicts every
   request twice: once on the response path, once on the shadow worker). Target: shadow costs
   at most 10 %.
2. **Canary p50**: sequential requests (one connection) without a challenger and with the
   same model as a canary on half of the request ids. Target: the split adds at most 0.2 ms.
3. **The split decision in process**: :meth:`ChallengerRouter.routes` per request id.

Usage::

    .venv/bin/python benchmarks/bench_challengers.py [--duration 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def deployed(mode: str | None):
    """Deploy bench@production (with ``mode`` challenger v2 when given); return the deployment."""
    import bench_serving

    import kernel_magics as mlops
    from kernel_magics.core.serving.challengers import deploy_challenger

    dep = mlops.deploy("bench@production", port=bench_serving.free_port())
    if mode is not None:
        deploy_challenger("bench@production", "bench/2", mode=mode, share=0.5)
    return dep


def run(duration: int, rounds: int) -> dict[str, list[dict]]:
    """Throughput (32 connections) and sequential latency of each configuration, per round."""
    import bench_serving

    import kernel_magics as mlops
    from kernel_magics.core.serving.challengers import challenger_status, stop_challenger

    model, frame = bench_serving.make_model()
    body = json.dumps({"dataframe_split": {"columns": list(frame.columns),
                                           "data": [frame.iloc[0].tolist()]}})  # fmt: skip
    out: dict[str, list[dict]] = {"none": [], "shadow": [], "canary": [], "none-1c": []}
    with tempfile.TemporaryDirectory() as home:
        os.environ["MLOPS_HOME"] = str(Path(home) / ".mlops")
        mlops.log_model(model, "bench", input_example=frame, alias="production")
        mlops.log_model(model, "bench", input_example=frame)  # the same model as version 2
        for _ in range(rounds):
            for mode, connections in (("none", 32), ("shadow", 32), ("none-1c", 1),
                                      ("canary", 1)):  # fmt: skip
                challenger = mode if mode in ("shadow", "canary") else None
                dep = deployed(challenger)
                try:
                    url = f"{dep.url}/invocations"
                    result = bench_serving.measure(url, body, duration, connections)
                    if challenger is not None:
                        status = challenger_status("bench@production")
                        result["challenger_requests"] = status.stats.challenger_requests
                        result["dropped"] = status.stats.dropped
                        result["agreement"] = status.agreement
                        stop_challenger("bench@production")
                    out[mode].append(result)
                    print(f"  {mode}: {result}", flush=True)
                finally:
                    mlops.stop_deployment("bench@production")
    return out


def split_decision_us() -> float:
    """Microseconds of one canary decision (CRC32 of a request id against the threshold)."""
    from kernel_magics.core.serving.challenger_router import ChallengerRouter

    router = ChallengerRouter.__new__(ChallengerRouter)
    router.active, router.threshold = True, int(0.5 * 2**32)
    rid = "5f0c9d2e8a1b4c3d9e7f6a5b4c3d2e1f"
    n = 200_000
    return min(timeit.repeat(lambda: router.routes(rid), number=n, repeat=5)) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds per measurement.")
    parser.add_argument("--rounds", type=int, default=2, help="Alternating rounds.")
    args = parser.parse_args()
    res = run(args.duration, args.rounds)
    med = {k: statistics.median(r["rps"] for r in v) for k, v in res.items()}
    p50 = {k: statistics.median(r["p50"] for r in v) for k, v in res.items()}
    cost = 1 - med["shadow"] / med["none"]
    added = p50["canary"] - p50["none-1c"]
    print(f"\nshadow throughput: {med['none']:.0f} req/s without, {med['shadow']:.0f} with the "
          f"same model as shadow challenger: costs {cost:.1%} (target <= 10 %)")  # fmt: skip
    print(f"canary p50 (1 connection): {p50['none-1c']:.3f} ms without, {p50['canary']:.3f} ms "
          f"with a 50 % canary: adds {added:.3f} ms (target <= 0.2 ms)")  # fmt: skip
    print(f"split decision in process: {split_decision_us():.3f} us per request")


if __name__ == "__main__":
    main()
