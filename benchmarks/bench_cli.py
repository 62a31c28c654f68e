"""CLI start-up where users wait: `mlops runs ls/show` vs `mlflow runs list/describe`.

Both stores hold the same 1,000 finished runs (2 params, 2 metrics each) in a local SQLite file;
each command is timed as a fresh process from start to exit, as a user typing it sees it.
Ours are made through the tracking API; MLflow's are bulk-loaded through MLflow's own models
(as bench_tracking.py does), because logging 1,000 runs through its client takes minutes.

Run with `make bench` or `.venv/bin/python benchmarks/bench_cli.py [--runs N] [--repeat R]`.
MLflow comes from the `bench` extra; when this interpreter lacks it, point MLFLOW_PYTHON at an
interpreter that has it (its `mlflow` script next to it is used). Prints a Markdown table;
copy it into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Table  # noqa: E402

BIN = Path(sys.executable).parent
TARGET = "≤ 0.3 s"
HEAVY = ["pandas", "papermill", "matplotlib", "fastapi", "IPython", "sklearn", "jupyter_server"]


def mlflow_python() -> str | None:
    if importlib.util.find_spec("mlflow") is not None:
        return sys.executable
    return os.environ.get("MLFLOW_PYTHON")


def populate_ours(home: Path, n_runs: int) -> list[str]:
    """Log ``n_runs`` finished runs through the public tracking API; return their ids."""
    os.environ["MLOPS_HOME"] = str(home / ".mlops")
    import kernel_magics as mlops
    from kernel_magics.core.store import close_stores

    rng = random.Random(0)
    ids = []
    for i in range(n_runs):
        params = {"C": rng.choice([0.01, 0.1, 1.0, 10.0]), "penalty": rng.choice(["l1", "l2"])}
        with mlops.start_run(experiment="cli", name=f"r{i}", params=params) as run:
            mlops.log_metrics({"acc": rng.random(), "loss": rng.random()})
            ids.append(run.id)
    close_stores()
    return ids


def populate_mlflow(python: str, home: Path, n_runs: int) -> tuple[str, str]:
    """Bulk-load the same runs into an MLflow store; return (experiment id, one run id)."""
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1])\n"
        "from bench_tracking import populate_mlflow\n"
        "import mlflow\n"
        "exp = populate_mlflow(sys.argv[2], int(sys.argv[3]))\n"
        "run = mlflow.search_runs([exp], max_results=1, output_format='list')[0]\n"
        "print(json.dumps([exp, run.info.run_id]))\n"
    )
    out = subprocess.run(
        [python, "-c", code, str(Path(__file__).parent), str(home), str(n_runs)],
        check=True, capture_output=True, text=True, env={**os.environ, "GIT_PYTHON_REFRESH": "quiet"},
    )  # fmt: skip
    exp, run = json.loads(out.stdout.strip().splitlines()[-1])
    return exp, run


def wall(cmd: list[str], env: dict[str, str], cwd: Path, repeat: int) -> tuple[float, float]:
    """Median wall and CPU (user + sys) seconds of ``cmd`` as a fresh process.

    One warm-up run first (the OS caches .pyc files and the SQLite file). CPU time is reported
    too because on a loaded machine it is the stable figure: wall time then includes waiting
    for a core.
    """
    walls, cpus = [], []
    for attempt in range(repeat + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, cwd=cwd, capture_output=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if attempt:
            walls.append(elapsed)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def heavy_imports(args: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    """Which HEAVY modules ``mlops *args`` imports (to explain a slow row)."""
    code = (
        "import sys\nfrom kernel_magics.cli import main\n"
        f"sys.argv = ['mlops', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stderr.strip().splitlines()[-1].replace("'", '"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in each store")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per command")
    parser.add_argument("--their-repeat", type=int, default=3, help="timed runs per MLflow command")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        ids = populate_ours(home, args.runs)
        env = {**os.environ, "MLOPS_HOME": str(home / ".mlops"), "COLUMNS": "120"}
        table = Table("mlops", "mlflow")
        python = mlflow_python()
        mlflow_cli = str(Path(python).with_name("mlflow")) if python else None
        if python:
            exp, mlflow_run = populate_mlflow(python, home, args.runs)
            mlflow_env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{home}/mlflow.db",
                          "GIT_PYTHON_REFRESH": "quiet"}  # fmt: skip
        else:
            print("MLflow not found (install the bench extra or set MLFLOW_PYTHON)", flush=True)

        mlops = str(BIN / "mlops")
        rows = [
            ("`runs ls` (20 newest)", [mlops, "runs", "ls"],
             [mlflow_cli, "runs", "list", "--experiment-id", exp] if python else None),
            ("`runs show RUN`", [mlops, "runs", "show", ids[len(ids) // 2]],
             [mlflow_cli, "runs", "describe", "--run-id", mlflow_run] if python else None),
            ("`runs ls --json`", [mlops, "runs", "ls", "--json"], None),
            ("`--help`", [mlops, "--help"], [mlflow_cli, "--help"] if python else None),
        ]  # fmt: skip
        print(f"{args.runs:,} runs per store; median of {args.repeat} fresh processes", flush=True)
        cpu = Table("mlops", "mlflow")
        for what, ours_cmd, theirs_cmd in rows:
            ours = wall(ours_cmd, env, home, args.repeat)
            theirs = wall(theirs_cmd, mlflow_env, home, args.their_repeat) if theirs_cmd else None
            target = TARGET if "runs" in what else ""
            table.add(f"{what}, {args.runs:,} runs", ours[0], theirs and theirs[0], target)
            cpu.add(f"{what}, {args.runs:,} runs (CPU)", ours[1], theirs and theirs[1], target)
        print(
            "heavy modules imported by `mlops runs ls`:", heavy_imports(["runs", "ls"], env, home)
        )
        print("heavy modules imported by `mlops runs show`:",
              heavy_imports(["runs", "show", ids[0]], env, home))  # fmt: skip
        print(f"\nload average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print("\nwall time\n")
        print(table.markdown())
        print("\nCPU time (user + sys)\n")
        print(cpu.markdown())
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
