"""A scheduler process for the multi-process alert test: a shared scaled clock, real summaries.

Runs a :class:`Scheduler` on the store the environment names (``MLOPS_HOME``) until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import threading

from kernel_magics.core.scheduler.clock import ScaledClock
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.core.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--speed", type=float, required=True)
    parser.add_argument("--origin", type=float, required=True)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    clock = ScaledClock(args.start, args.speed, args.origin)
    Scheduler(open_store(), clock=clock, poll_interval=5.0, lease=60.0).run(stop)


if __name__ == "__main__":
    main()
