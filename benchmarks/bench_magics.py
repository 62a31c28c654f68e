"""Notebook magics: tracked-cell overhead vs MLflow, and the live plot's cost on a logging loop.

Run with `.venv/bin/python benchmarks/bench_magics.py` (needs the `bench` extra for MLflow).

1. `%load_ext kernel_magics` time (target ≤ 0.1 s), in a fresh interpreter.
2. Overhead of an empty `%%mlops track` cell over the same cell without the magic (target
   ≤ 5 ms), next to `with mlflow.start_run(): pass` on a local SQLite store; once with the
   notebook unknown and once with a notebook file to version (as in JupyterLab).
3. A loop logging 100,000 metric points inside a tracked cell, with and without the live plot
   following it (target: < 5 % slower). Each step does a little numpy work, as training does;
   the pure logging loop is reported too. Both the wall-clock ratio and the ratio of process
   CPU time (all threads: the flusher, the plot's listener and redraws) are given; the CPU
   ratio is the one that stays meaningful on a machine shared with other work.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def fmt(seconds: float) -> str:
    """Human units for a duration."""
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def best_of(fn, repeat: int = 5) -> float:
    """Median of ``repeat`` calls of ``fn`` (which returns seconds)."""
    return statistics.median(fn() for _ in range(repeat))


def subprocess_value(code: str) -> float:
    """Run ``code`` in a fresh interpreter; it prints one float, which is returned."""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


class Table:
    """Rows of (what, ours, baseline, target), printed as they come and as Markdown."""

    def __init__(self, ours: str, theirs: str):
        self.ours, self.theirs = ours, theirs
        self.rows: list[tuple[str, float, float | None, str]] = []

    def add(self, what: str, ours: float, theirs: float | None, target: str = "") -> None:
        self.rows.append((what, ours, theirs, target))
        other = fmt(theirs) if theirs else "-"
        print(f"  {what}: {self.ours} {fmt(ours)} | {self.theirs} {other}", flush=True)

    def markdown(self) -> str:
        lines = [f"| measurement | {self.ours} | {self.theirs} | ratio ({self.theirs} / "
                 f"{self.ours}) | target |", "|---|---|---|---|---|"]  # fmt: skip
        for what, ours, theirs, target in self.rows:
            ratio = f"{theirs / ours:.2f}x" if theirs else "n/a"
            other = fmt(theirs) if theirs else "-"
            lines.append(f"| {what} | {fmt(ours)} | {other} | {ratio} | {target} |")
        return "\n".join(lines)


os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
os.environ["GIT_PYTHON_REFRESH"] = "quiet"

LOAD_EXT = """
import time
from IPython.core.interactiveshell import InteractiveShell
sh = InteractiveShell.instance()
t = time.perf_counter()
sh.run_line_magic("load_ext", "kernel_magics")
print(time.perf_counter() - t)
"""

CELLS = 200
REPEAT_LOOPS = 7
REDRAWS: list[int] = []
BUSY: list[float] = []  # the plot's own work (listener + redraws) as a share of the loop


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    shell.run_cell("%load_ext kernel_magics", store_history=True)
    return shell


def _per_cell(shell, source: str, n: int = CELLS, drain: bool = False) -> float:
    from kernel_magics.kernel import cell_writer

    times = []
    with contextlib.redirect_stdout(io.StringIO()):  # re-running a cell prints "unordered"
        for _ in range(n):
            start = time.perf_counter()
            shell.run_cell(source, store_history=True)
            if drain:
                cell_writer.drain()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_tracked_cell(table: Table) -> None:
    home = tempfile.mkdtemp(prefix="mlops-bench-")
    os.environ["MLOPS_HOME"] = f"{home}/.mlops"
    shell = _shell()
    _per_cell(shell, "%%mlops track\npass", 20)  # warm: store open, environment captured
    plain = _per_cell(shell, "pass")
    tracked = _per_cell(shell, "%%mlops track\npass")
    import nbformat

    notebook = Path(home) / "bench.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in ["%load_ext kernel_magics", "x = 1"] * 10]
    nbformat.write(nb, notebook)
    os.environ["JPY_SESSION_NAME"] = str(notebook)
    with_notebook = _per_cell(shell, "%%mlops track\npass")
    drained = _per_cell(shell, "%%mlops track\npass", drain=True)
    del os.environ["JPY_SESSION_NAME"]

    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{home}/mlflow.db")
    with mlflow.start_run():
        pass

    def mlflow_run() -> float:
        start = time.perf_counter()
        with mlflow.start_run():
            pass
        return time.perf_counter() - start

    theirs = statistics.median(mlflow_run() for _ in range(CELLS))
    table.add("empty tracked cell, overhead (notebook unknown)", tracked - plain, theirs, "≤ 5 ms")
    table.add("empty tracked cell, overhead (notebook versioned)", with_notebook - plain, theirs,
              "≤ 5 ms")  # fmt: skip
    table.add("same, waiting for the background writes (source, history, version)",
              drained - plain, theirs, "")  # fmt: skip


def _loop(shell, live: bool, work: bool) -> tuple[float, float]:
    """Wall time and process CPU time (every thread: flusher, live plot) of the loop."""
    from kernel_magics.kernel import track

    body = (
        "import numpy as _np, time as _t, kernel_magics as _mlops\n"
        "_m = _np.ones((256, 256)) * 1e-3; _v = _np.ones(256)\n"
        "_start = _t.perf_counter(); _cpu = _t.process_time()\n"
        "for _i in range(100_000):\n"
        + ("    _x = float(_np.tanh(_m @ _v).sum()) * 1e-9\n" if work else "    _x = 0.0\n")
        + "    _mlops.log_metric('loss', 1.0 / (_i + 1) + _x, step=_i)\n"
        "_elapsed = (_t.perf_counter() - _start, _t.process_time() - _cpu)\n"
        "_busy = getattr(globals().get('_plot'), 'busy_seconds', 0.0)\n"
    )
    original = track.TrackedCell._live_plot
    shell.user_ns.pop("_plot", None)
    if live:  # InteractiveShell has no widget front end: start the plot's timer anyway
        from kernel_magics.kernel.widgets.live_plot import LivePlot

        def forced(self, source):
            plot = LivePlot(self.tracked_run.store, self.tracked_run.id)
            plot.show(display=False)
            forced.plots.append(plot)
            shell.user_ns["_plot"] = plot  # the loop reads its busy time when it ends
            return plot

        forced.plots = []
        track.TrackedCell._live_plot = forced
    try:
        shell.run_cell("%%mlops track --no-figures\n" + body, store_history=True)
    finally:
        track.TrackedCell._live_plot = original
    if live:
        REDRAWS.append(forced.plots[-1].redraws)
        BUSY.append(shell.user_ns["_busy"] / shell.user_ns["_elapsed"][0])
    return shell.user_ns["_elapsed"]


def bench_live_plot(table: Table) -> None:
    shell = _shell()
    for work in (True, False):
        label = "~12 µs of numpy work per step" if work else "pure logging"
        walls, cpus, offs, ons = [], [], [], []
        for _ in range(REPEAT_LOOPS):  # interleaved, so machine load hits both alike
            with contextlib.redirect_stdout(io.StringIO()):
                off = _loop(shell, False, work)
                on = _loop(shell, True, work)
            offs.append(off[0])
            ons.append(on[0])
            walls.append(on[0] / off[0])
            cpus.append(on[1] / off[1])
        wall, cpu = statistics.median(walls) - 1, statistics.median(cpus) - 1
        busy = statistics.median(BUSY[-REPEAT_LOOPS:])
        print(f"  100,000 points, {label}: without plot {fmt(statistics.median(offs))}, with live "
              f"plot {fmt(statistics.median(ons))}; median wall-clock slowdown {wall:+.1%}, "
              f"median CPU-time increase {cpu:+.1%}, plot's own work {busy:.1%} of the loop, "
              f"redraws per loop {REDRAWS[-REPEAT_LOOPS:]}",
              flush=True)  # fmt: skip
        table.add(f"100,000-point loop ({label}), live plot on vs off: wall {wall:+.1%}, "
                  f"CPU {cpu:+.1%}, plot's own work {busy:.1%}", statistics.median(ons),
                  statistics.median(offs),
                  "< 5 % slower")  # fmt: skip


def main() -> None:
    table = Table("jupyter-mlops", "baseline")
    load = best_of(lambda: subprocess_value(LOAD_EXT), repeat=5)
    table.add("%load_ext kernel_magics", load, None, "≤ 0.1 s")
    bench_tracked_cell(table)
    bench_live_plot(table)
    print()
    print("Baselines: `with mlflow.start_run(): pass` (MLflow, SQLite store) for the tracked cell; "
          "the same loop without the live plot for the live plot.")  # fmt: skip
    print(table.markdown())


if __name__ == "__main__":
    main()
