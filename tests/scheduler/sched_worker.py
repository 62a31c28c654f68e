"""A scheduler process for the multi-process tests: fast scaled clock, trivial executor.

Every attempt writes ``start`` and ``end`` JSON lines (one ``os.write`` each, O_APPEND, so
lines from several processes never interleave) to the shared log, then the test compares that
log with the store.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading

from kernel_magics.core.scheduler.clock import ScaledClock
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.core.scheduler.executors import BaseSlotExecutor, Outcome
from kernel_magics.core.store import open_store


class LoggingExecutor(BaseSlotExecutor):
    def __init__(self, log_path: str, owner: str, clock: ScaledClock, work: float):
        self.fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.owner, self.clock, self.work = owner, clock, work

    def write(self, event: str, job) -> None:
        line = json.dumps(
            {
                "event": event,
                "owner": self.owner,
                "slot": job.slot_id,
                "attempt": job.attempt,
                "slot_time": job.slot_time,
                "t": self.clock.now(),
            }
        )
        os.write(self.fd, (line + "\n").encode())

    def execute(self, job):
        self.write("start", job)
        self.clock.sleep(self.work)
        self.write("end", job)
        return Outcome("finished")


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("log", "owner"):
        parser.add_argument(f"--{name}", required=True)
    for name in ("start", "origin", "speed", "poll", "lease", "grace", "work"):
        parser.add_argument(f"--{name}", type=float, required=True)
    parser.add_argument("--runner", action="store_true", help="Run notebooks for real.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    clock = ScaledClock(args.start, args.speed, origin=args.origin)
    store = open_store()
    executor = LoggingExecutor(args.log, args.owner, clock, args.work)
    if args.runner:
        from kernel_magics.core.scheduler.executors import RunnerSlotExecutor

        runner = RunnerSlotExecutor()
        executor.execute = lambda job: (executor.write("start", job), runner.execute(job))[1]
    scheduler = Scheduler(
        store,
        executor=executor,
        clock=clock,
        poll_interval=args.poll,
        lease=args.lease,
        grace=args.grace,
        max_workers=4,
        owner=args.owner,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    roles = []
    original_tick = scheduler.tick

    def tick():
        report = original_tick()
        if not roles or roles[-1] != report.role:
            roles.append(report.role)
            os.write(
                executor.fd,
                (
                    json.dumps(
                        {
                            "event": "role",
                            "owner": args.owner,
                            "role": report.role,
                            "t": clock.now(),
                        }
                    )
                    + "\n"
                ).encode(),
            )
        return report

    scheduler.tick = tick
    print("ready", flush=True)
    scheduler.run(stop, drain=10)


if __name__ == "__main__":
    main()
