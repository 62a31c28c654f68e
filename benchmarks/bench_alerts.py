"""Alert benchmarks: what alerts add to every scheduler tick, and a minute's evaluation cost.

1. Scheduler ticks (every 5 s of manual time, for 20 minutes) on a store with no schedules
   and no rules, with alert evaluation off and on: the lease renewals and the per-minute
   look at the rules that every running scheduler now pays.
2. One minute's evaluation of ``--rules`` rules on one model (windows of 60, 61, ... minutes,
   so no two rules share a read; 60 one-minute buckets of traffic): ``evaluate_due`` (claim,
   summarize, judge, incident bookkeeping) against the bare ``summarize`` calls it makes
   (what ``mlops monitor`` would read).

Run: ``.venv/bin/python benchmarks/bench_alerts.py [--rules 10] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from common import Table  # noqa: E402

START = 1_798_761_600.0  # an hour boundary


def setup():
    os.environ["MLOPS_HOME"] = str(Path(tempfile.mkdtemp()) / ".mlops")
    from churn_data import churn_frame
    from sklearn.linear_model import LogisticRegression

    from kernel_magics.core.monitoring.counts import latency_counts
    from kernel_magics.core.registry.api import log_model
    from kernel_magics.core.store import open_store

    store = open_store()
    frame, target = churn_frame(60)
    version = log_model(LogisticRegression(max_iter=500).fit(frame, target), "churn",
                        frame.head(5), store=store)  # fmt: skip
    for m in range(60):
        store.monitoring.add_bucket(
            version.id, source="serving", start=START + 60 * m, seconds=60.0, requests=50,
            errors=m % 3, rows=50, latency=latency_counts([5.0 + m] * 50), features={},
            prediction=None,
        )  # fmt: skip
    return store


def add_rules(store, rules: int) -> None:
    """``rules`` rules on one model, each over its own window length (no two share a read)."""
    from kernel_magics.core.monitoring import alerts_api

    for i in range(rules):
        alerts_api.add_alert(f"r{i}", "churn", ["errors.rate > 0.5", "latency.p99_ms > 500"],
                             window=f"{60 + i}m", store=store)  # fmt: skip


def per_tick(store, alerts: bool, ticks: int = 240) -> float:
    from kernel_magics.core.scheduler.clock import ManualClock
    from kernel_magics.core.scheduler.daemon import Scheduler

    clock = ManualClock(START + 3600 + 1)
    scheduler = Scheduler(store, clock=clock, alerts=alerts, owner=f"bench-{alerts}")
    scheduler.tick()  # imports and the first lease outside the timing
    start = time.perf_counter()
    for _ in range(ticks):
        clock.advance(5.0)
        scheduler.tick()
    seconds = (time.perf_counter() - start) / ticks
    scheduler.close()
    return seconds


def minute_evaluation(store, rules: int, repeat: int) -> tuple[float, float]:
    from kernel_magics.core.monitoring.alerts import evaluate_due
    from kernel_magics.core.monitoring.windows import summarize

    evaluated, bare = [], []
    for i in range(repeat):
        now = START + 3600 + 60 * (i + 5)
        start = time.perf_counter()
        done = evaluate_due(store, now)
        evaluated.append(time.perf_counter() - start)
        assert len(done) == rules, done
        minute = now // 60 * 60
        start = time.perf_counter()
        for i in range(rules):
            w = 60.0 * (60 + i)
            summarize(store, "churn", since=minute // w * w - w, until=minute, window_s=w)
        bare.append(time.perf_counter() - start)
    return statistics.median(evaluated), statistics.median(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    store = setup()

    print("Scheduler tick every 5 s for 20 minutes, no schedules, no rules:")
    ticks = Table("alerts on", "alerts off")
    rounds = [(per_tick(store, True, 48), per_tick(store, False, 48)) for _ in range(5)]
    on = statistics.median(r[0] for r in rounds)  # alternating rounds: load hits both sides
    off = statistics.median(r[1] for r in rounds)
    ticks.add("one tick", on, off)
    print(f"  overhead per tick: {(on - off) * 1e3:.2f} ms ({on / off:.2f}x)")
    add_rules(store, args.rules)

    print(f"One minute's evaluation of {args.rules} rules (60 buckets):")
    minute = Table("evaluate_due", "bare summarize")
    evaluated, bare = minute_evaluation(store, args.rules, args.repeat)
    minute.add(f"{args.rules} rules", evaluated, bare)
    print(f"  overhead of claims and incident bookkeeping: {evaluated / bare:.2f}x")
    print()
    print(ticks.markdown())
    print()
    print(minute.markdown())


if __name__ == "__main__":
    main()
