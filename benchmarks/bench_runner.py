"""Notebook runs: `mlops run` and sweeps against plain papermill on the same notebook.

Prints, side by side:

1. one tracked run (``kernel_magics.run_notebook``) vs one ``papermill.execute_notebook`` of
   the same trivial notebook (median of N alternating repetitions; target: at most +10 %);
2. a sweep of 10 runs of that notebook with 2 workers (``kernel_magics.sweep_notebook``,
   kernels started ahead of time) vs a plain papermill loop over the same 10 parameter values
   (target: at most 1/3 of the loop's time).

Both sides run in this process after a warm-up run (imports are not measured), against a fresh
SQLite store in a temporary MLOPS_HOME.

Usage: python benchmarks/bench_runner.py [--repeat 5] [--runs 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "notebooks" / "trivial.ipynb"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="single-run repetitions")
    parser.add_argument("--runs", type=int, default=10, help="notebooks in the sweep")
    parser.add_argument("--workers", type=int, default=2, help="sweep workers")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="bench-runner-")
    os.environ["MLOPS_HOME"] = os.path.join(home, ".mlops")
    for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
        os.environ.pop(var, None)
    import logging

    import papermill

    import kernel_magics as mlops

    logging.getLogger("papermill").setLevel(logging.WARNING)
    out = Path(home) / "papermill"
    out.mkdir()

    def plain(n: int) -> None:
        papermill.execute_notebook(str(NOTEBOOK), str(out / f"out-{n}.ipynb"),
                                   parameters={"n": n}, progress_bar=False)  # fmt: skip

    def tracked(n: int) -> None:
        result = mlops.run_notebook(NOTEBOOK, {"n": n})
        assert result.status == "finished", result.error

    plain(0)  # warm-up: imports, the store's creation, the first kernel's disk cache
    tracked(0)

    plain_times, tracked_times = [], []
    for i in range(args.repeat):
        for fn, times in ((plain, plain_times), (tracked, tracked_times)):
            started = time.perf_counter()
            fn(i)
            times.append(time.perf_counter() - started)
    p, t = statistics.median(plain_times), statistics.median(tracked_times)

    started = time.perf_counter()
    for n in range(args.runs):
        plain(n)
    loop = time.perf_counter() - started
    started = time.perf_counter()
    sweep = mlops.sweep_notebook(NOTEBOOK, {"n": list(range(args.runs))}, workers=args.workers)
    swept = time.perf_counter() - started
    assert sweep.status == "finished", [c.error for c in sweep.children]

    print(f"python {sys.version.split()[0]}, papermill {papermill.__version__}, "
          f"{os.cpu_count()} cores, notebook {NOTEBOOK.name}")  # fmt: skip
    print(f"{'measurement':<44} {'papermill':>10} {'jupyter-mlops':>14} {'ratio':>7} {'target':>8}")
    print(f"{'one run, median of ' + str(args.repeat) + ' (s)':<44} {p:>10.2f} {t:>14.2f} "
          f"{t / p:>7.2f} {'<= 1.10':>8}")  # fmt: skip
    print(f"{f'{args.runs} runs: loop vs sweep, {args.workers} workers (s)':<44} {loop:>10.2f} "
          f"{swept:>14.2f} {swept / loop:>7.2f} {'<= 0.33':>8}")  # fmt: skip
    load = os.getloadavg()[0]
    print(f"\nMarkdown (load average {load:.1f}):\n")
    print("| measurement | papermill | jupyter-mlops | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| one run (median of {args.repeat}) | {p:.2f} s | {t:.2f} s | {t / p:.2f} | <= 1.10 |")
    print(f"| {args.runs} runs: papermill loop vs sweep with {args.workers} workers | {loop:.2f} s "
          f"| {swept:.2f} s | {swept / loop:.2f} | <= 0.33 |")  # fmt: skip


if __name__ == "__main__":
    main()
