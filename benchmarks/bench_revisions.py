"""Our tracking API at two revisions, side by side in one run: did a change make it slower?

    git worktree add /tmp/before <REV>
    cp kernel_magics/_version.py /tmp/before/kernel_magics/
    .venv/bin/python benchmarks/bench_revisions.py /tmp/before .

Each revision is measured in its own process (PYTHONPATH points at it), alternating twice, so
a machine whose load drifts affects both alike. Prints one line per measurement and revision.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import os, subprocess, sys, tempfile, time
    home = tempfile.mkdtemp(); os.environ["MLOPS_HOME"] = home + "/.mlops"; os.chdir(home)
    IMPORT = "import time; t = time.perf_counter(); import kernel_magics; print(time.perf_counter() - t)"
    imp = min(float(subprocess.run([sys.executable, "-c", IMPORT], capture_output=True,
                                   text=True).stdout) for _ in range(5))
    import kernel_magics as mlops
    try:
        from kernel_magics.core.store.writer import flush_all
    except ImportError:  # before the one-house refactor
        from kernel_magics.core.flusher import flush_all
    with mlops.start_run(experiment="b"):
        pass
    def empty():
        t = time.perf_counter()
        for _ in range(200):
            with mlops.start_run(experiment="b"):
                pass
        return (time.perf_counter() - t) / 200
    def durable():
        with mlops.start_run(experiment="b"):
            flush_all(); t = time.perf_counter()
            for i in range(100_000):
                mlops.log_metric("loss", i * 0.5, step=i)
            per_call = (time.perf_counter() - t) / 100_000
            flush_all()
            return time.perf_counter() - t, per_call
    def search():
        t = time.perf_counter(); mlops.runs(experiment="b", filter="metrics.loss > 10")
        return time.perf_counter() - t
    e = min(empty() for _ in range(3)); d = [durable() for _ in range(3)]
    s = min(search() for _ in range(5))
    print(f"import {imp * 1e3:.1f} ms | empty run {e * 1e3:.2f} ms | log_metric "
          f"{min(x[1] for x in d) * 1e6:.2f} us | 100k points durable {min(x[0] for x in d) * 1e3:.0f} ms"
          f" | runs() filtered, 600 runs {s * 1e3:.1f} ms")
    """
)


def main() -> None:
    revisions = sys.argv[1:] or ["."]
    for _ in range(2):
        for path in revisions:
            env = {**os.environ, "PYTHONPATH": os.path.abspath(path)}
            out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                                 text=True, check=True).stdout.strip()  # fmt: skip
            print(f"{path}: {out}", flush=True)


if __name__ == "__main__":
    main()
