"""Scheduler benchmarks: what scheduling adds on top of papermill, and slot bookkeeping cost.

1. One tiny notebook executed by ``papermill.execute_notebook`` directly, against the same
   notebook fired by a schedule (slot creation, claim under a lease, a tracked run with its
   output notebook stored, the slot's end): the scheduler's overhead per run.
2. Slot bookkeeping alone (create, claim, renew, end) with a no-op executor, per slot, on
   SQLite and on PostgreSQL (when ``--pg-url`` is given), against one papermill run: how small
   a share of a scheduled run the exactly-once machinery is.

Run: ``.venv/bin/python benchmarks/bench_scheduler.py [--runs 5] [--pg]``
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
from common import Table  # noqa: E402

NOTEBOOK = Path(tempfile.mkdtemp()) / "tiny.ipynb"


def write_notebook() -> None:
    """A parameters cell and one cell that prints: the same notebook for both sides."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(x * 2)")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(NOTEBOOK))


def papermill_once(out_dir: Path) -> float:
    import papermill

    start = time.perf_counter()
    papermill.execute_notebook(str(NOTEBOOK), str(out_dir / "out.ipynb"), parameters={"x": 2},
                               progress_bar=False, log_output=False)  # fmt: skip
    return time.perf_counter() - start


def scheduled_runs(runs: int) -> list[float]:
    from kernel_magics.core.scheduler import api
    from kernel_magics.core.scheduler.clock import ManualClock
    from kernel_magics.core.scheduler.daemon import Scheduler
    from kernel_magics.core.scheduler.executors import RunnerSlotExecutor
    from kernel_magics.core.store import open_store

    store = open_store()
    clock = ManualClock(1_767_571_200.0)
    options = api.ScheduleOptions(cron="* * * * *", timezone="UTC", parameters={"x": 2})
    api.schedule(NOTEBOOK, options, name="bench", store=store, now=clock.now())
    scheduler = Scheduler(store, executor=RunnerSlotExecutor(), clock=clock, max_workers=1)
    times = []
    for _ in range(runs):
        clock.advance(60)
        start = time.perf_counter()
        assert scheduler.tick().claimed == 1
        scheduler.wait_idle()
        times.append(time.perf_counter() - start)
    assert {s["status"] for s in api.schedule_history("bench", store=store)} == {"finished"}
    return times


def bookkeeping_per_slot(slots: int) -> float:
    from kernel_magics.core.scheduler import api
    from kernel_magics.core.scheduler.clock import ManualClock
    from kernel_magics.core.scheduler.daemon import Scheduler
    from kernel_magics.core.scheduler.executors import BaseSlotExecutor, Outcome
    from kernel_magics.core.store import open_store

    class NoOp(BaseSlotExecutor):
        def execute(self, job):
            return Outcome("finished")

    store = open_store()
    clock = ManualClock(1_767_571_200.0)
    for i in range(10):
        options = api.ScheduleOptions(cron="* * * * *", timezone="UTC")
        api.schedule(NOTEBOOK, options, name=f"noop{i}", store=store, now=clock.now())
    scheduler = Scheduler(store, executor=NoOp(), clock=clock, max_workers=10)
    start = time.perf_counter()
    for _ in range(slots // 10):
        clock.advance(60)
        scheduler.tick()
        scheduler.wait_idle()
    return (time.perf_counter() - start) / (slots // 10 * 10)


def fresh_home(tmp: str, name: str, store_uri: str | None = None) -> None:
    from kernel_magics.core.store import close_stores

    close_stores()
    os.environ["MLOPS_HOME"] = str(Path(tmp) / name)
    os.environ.pop("MLOPS_STORE_URI", None)
    os.environ.pop("MLOPS_ARTIFACTS_URI", None)
    if store_uri:
        os.environ["MLOPS_STORE_URI"] = store_uri
        os.environ["MLOPS_ARTIFACTS_URI"] = str(Path(tmp) / name / "artifacts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Notebook runs per side.")
    parser.add_argument("--slots", type=int, default=500, help="Slots for the bookkeeping rows.")
    parser.add_argument(
        "--pg",
        action="store_true",
        help="Also measure bookkeeping on a temporary PostgreSQL server "
        "(started with tests/pg_server.py).",
    )
    args = parser.parse_args()
    write_notebook()
    with tempfile.TemporaryDirectory() as tmp:
        fresh_home(tmp, "warm")
        papermill_once(Path(tmp))  # warm caches (imports, kernel spec lookup)
        pm = statistics.median(papermill_once(Path(tmp)) for _ in range(args.runs))
        fresh_home(tmp, "scheduled")
        sched = statistics.median(scheduled_runs(args.runs))
        fresh_home(tmp, "sqlite")
        sqlite_slot = bookkeeping_per_slot(args.slots)
        pg_slot = None
        if args.pg:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from pg_server import PostgresServer

            server = PostgresServer()
            server.start()
            try:
                fresh_home(tmp, "pg", server.create_database("bench_scheduler"))
                pg_slot = bookkeeping_per_slot(args.slots)
                fresh_home(tmp, "done")
            finally:
                server.stop()
        fresh_home(tmp, "done")
    print("\nScheduled run vs papermill (median of", args.runs, "runs):")
    table = Table("scheduled", "papermill")
    table.add("one tiny notebook run, fire to end", sched, pm, "overhead < 1 s")
    print(
        f"  scheduled - papermill: {sched - pm:+.2f} s per run (the runner takes a pre-started kernel; "
        "papermill starts one per run)"
    )
    print("\nSlot bookkeeping (create, claim, end) vs one papermill run:")
    book = Table("bookkeeping/slot", "papermill run")
    book.add("SQLite, per slot", sqlite_slot, pm, "< 1% of a run")
    if pg_slot is not None:
        book.add("PostgreSQL, per slot", pg_slot, pm, "< 1% of a run")
    print("\n" + table.markdown() + "\n\n" + book.markdown())


if __name__ == "__main__":
    main()
