"""Monitoring: drift over 1,000,000 rows x 20 features vs Evidently, and serving with monitoring.

Three measurements, side by side in one run:

1. **Drift on raw values**: the same reference and live frames (1,000,000 live rows, 16 numeric
   and 4 categorical features, a few of them shifted) through our
   ``core.monitoring.samples.frame_drift`` and through Evidently's ``DataDriftPreset``; once
   with a 100,000-row reference (Wasserstein / Jensen-Shannon) and once with a 1,000-row
   reference (KS / chi-squared). Prints both times, the ratio, and whether every column's
   verdict is the same.
2. **Drift from the server's counts**: counting the same live rows over the training profile's
   bins (what the model server does per bucket) and PSI on the counts.
3. **Serving throughput with monitoring on vs off**: one worker, 32 connections, single-row
   requests (``bench_serving.py``'s load), alternating off/on so machine load hits both alike.

Evidently comes from the ``bench`` extra. It pins older libraries than ours in places, so when
this interpreter lacks it, point EVIDENTLY_PYTHON at an interpreter that has it (a separate
venv: ``python -m venv /tmp/evenv && /tmp/evenv/bin/pip install evidently``)::

    EVIDENTLY_PYTHON=/tmp/evenv/bin/python .venv/bin/python benchmarks/bench_monitoring.py

Options: ``--rows`` (live rows, default 1,000,000), ``--repeat`` (our timing: median of N),
``--duration`` (seconds per serving measurement), ``--skip-serving``, ``--skip-drift``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import best_of, timed  # noqa: E402

NUMERIC = [f"x{i}" for i in range(16)]
CATEGORICAL = [f"c{i}" for i in range(4)]
LEVELS = ["basic", "plus", "pro", "team", "enterprise"]
#: What moves in the live data: mean shifts in standard deviations, a scale change, category mix.
SHIFTS = {"x1": 0.5, "x5": "scale", "x9": 0.2, "x12": 0.03, "c0": "mix", "c2": "new"}

#: Each tool's score per column in the latest comparison (p-values or distances).
SCORES: dict[str, dict[str, float | None]] = {}

EVIDENTLY_SCRIPT = r"""
import json, sys, time
import numpy as np, pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

def frame(path):
    data = np.load(path, allow_pickle=False)
    out = pd.DataFrame({k: data[k] for k in data.files if k.startswith("x")})
    levels = np.array(json.loads(sys.argv[3]))
    for k in data.files:
        if k.startswith("c"):
            out[k] = levels[data[k]]
    return out

ref, cur = frame(sys.argv[1]), frame(sys.argv[2])
definition = DataDefinition(numerical_columns=[c for c in ref if c.startswith("x")],
                            categorical_columns=[c for c in ref if c.startswith("c")])
start = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=definition),
                                           Dataset.from_pandas(ref, data_definition=definition))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "result": snapshot.dict()}, default=str))
"""


def make_data(rows: int, reference_rows: int, seed: int = 0):
    """Reference and live frames (categoricals as codes into LEVELS for the file exchange)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def one(n: int, live: bool) -> pd.DataFrame:
        data = {}
        for i, name in enumerate(NUMERIC):
            loc, scale = float(i), 1.0 + i / 4
            shift = SHIFTS.get(name) if live else None
            if shift == "scale":
                scale *= 1.5
            elif isinstance(shift, float):
                loc += shift * scale
            data[name] = rng.normal(loc, scale, n)
        for name in CATEGORICAL:
            p = [0.4, 0.3, 0.2, 0.1, 0.0]
            shift = SHIFTS.get(name) if live else None
            if shift == "mix":
                p = [0.1, 0.2, 0.3, 0.4, 0.0]
            elif shift == "new":
                p = [0.36, 0.27, 0.18, 0.09, 0.10]
            data[name] = rng.choice(len(LEVELS), n, p=p)
        return pd.DataFrame(data)

    return one(reference_rows, False), one(rows, True)


def as_labels(frame):
    """The frame with category codes turned into their names (what both tools judge)."""
    import numpy as np

    out = frame.copy()
    names = np.array(LEVELS, dtype=object)
    for name in CATEGORICAL:
        out[name] = names[frame[name].to_numpy()]
    return out


def ours(reference, live, repeat: int) -> tuple[float, dict[str, bool]]:
    from kernel_magics.core.monitoring.samples import frame_drift

    result = frame_drift(reference, live)
    seconds = best_of(lambda: timed(lambda: frame_drift(reference, live)), repeat)
    SCORES["ours"] = {n: f.score for n, f in result.features.items()}
    return seconds, {n: bool(f.drifted) for n, f in result.features.items()}


def evidently_python() -> str | None:
    """EVIDENTLY_PYTHON, else this interpreter when Evidently imports in it (it is installed
    but fails to import next to pandas 3)."""
    if os.environ.get("EVIDENTLY_PYTHON"):
        return os.environ["EVIDENTLY_PYTHON"]
    if importlib.util.find_spec("evidently") is None:
        return None
    check = subprocess.run([sys.executable, "-c", "import evidently.presets"], capture_output=True)
    return sys.executable if check.returncode == 0 else None


def evidently(python: str, reference, live, tmp: Path) -> tuple[float, dict[str, bool]]:
    """Run Evidently's preset in ``python`` on the same data; its time and per-column verdict."""
    import numpy as np

    paths = []
    for label, frame in (("ref", reference), ("cur", live)):
        path = tmp / f"{label}.npz"
        np.savez(path, **{c: frame[c].to_numpy() for c in frame.columns})
        paths.append(str(path))
    out = subprocess.run(
        [python, "-c", EVIDENTLY_SCRIPT, *paths, json.dumps(LEVELS)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout.strip().splitlines()[-1])
    verdicts: dict[str, bool] = {}
    for metric in data["result"]["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if config.get("type", "").endswith("ValueDrift") and column:
            method, threshold = config.get("method", ""), float(config["threshold"])
            value = float(metric["value"])
            p_value = "p_value" in method or method in ("K-S p_value", "chi-square p_value")
            verdicts[column] = value < threshold if p_value else value >= threshold
            SCORES.setdefault("evidently", {})[column] = value
    return float(data["seconds"]), verdicts


def counts_path(reference, live, repeat: int) -> tuple[float, float, dict[str, bool]]:
    """Counting the live rows over the profile's bins, then PSI; (count s, PSI s, verdicts)."""
    from kernel_magics.core.monitoring.counts import ProfileBinning
    from kernel_magics.core.monitoring.drift import DriftConfig, counts_drift
    from kernel_magics.core.registry.profile import profile_data

    profile = profile_data(reference)
    binning = ProfileBinning.build(profile, list(live.columns), None)

    def count():
        counts = binning.new_counts()
        counts.add_columns(live)
        return counts.features()

    features = count()
    count_s = best_of(lambda: timed(count), repeat)
    config = DriftConfig()

    def judge():
        return {n: counts_drift(n, profile["features"][n], c, config) for n, c in features.items()}

    psi_s = best_of(lambda: timed(judge), repeat)
    return count_s, psi_s, {n: bool(f.drifted) for n, f in judge().items()}


def serving(duration: int, connections: int, rounds: int = 2) -> dict[str, list[dict]]:
    """Requests/s of one deployed server with MLOPS_MONITORING off and on, alternating."""
    import bench_serving

    import kernel_magics as mlops

    model, frame = bench_serving.make_model()
    body = json.dumps({"dataframe_split": {"columns": list(frame.columns),
                                           "data": [frame.iloc[0].tolist()]}})  # fmt: skip
    results: dict[str, list[dict]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as home:
        os.environ["MLOPS_HOME"] = str(Path(home) / ".mlops")
        mlops.log_model(model, "bench", input_example=frame, alias="production")
        for _ in range(rounds):
            for mode in ("off", "on"):
                os.environ["MLOPS_MONITORING"] = mode  # the server process inherits it
                dep = mlops.deploy("bench@production", port=bench_serving.free_port())
                try:
                    url = f"{dep.url}/invocations"
                    results[mode].append(bench_serving.measure(url, body, duration, connections))
                finally:
                    mlops.stop_deployment(str(dep.id))
        os.environ.pop("MLOPS_MONITORING", None)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Live rows.")
    parser.add_argument("--repeat", type=int, default=3, help="Our timings: median of N runs.")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per serving run.")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skip-serving", action="store_true")
    parser.add_argument("--skip-drift", action="store_true")
    args = parser.parse_args()
    if not args.skip_drift:
        drift(args)
    if not args.skip_serving:
        serving_report(args)


def drift(args) -> None:
    """Print the drift comparisons (parts 1 and 2 of the module docstring)."""
    python = evidently_python()
    print(f"{args.rows:,} live rows x {len(NUMERIC) + len(CATEGORICAL)} features "
          f"({len(NUMERIC)} numeric, {len(CATEGORICAL)} categorical); shifted: "
          f"{', '.join(SHIFTS)}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'drift on raw values':<44}{'ours':>9}{'Evidently':>11}{'ratio':>8}  same verdicts")
    with tempfile.TemporaryDirectory() as tmp_name:
        for reference_rows in (100_000, 1_000):
            reference, live = make_data(args.rows, reference_rows)
            labelled_ref, labelled_live = as_labels(reference), as_labels(live)
            our_s, our_v = ours(labelled_ref, labelled_live, args.repeat)
            tests = "Wasserstein/JS" if reference_rows > 1000 else "KS/chi-squared"
            label = f"reference {reference_rows:,} rows ({tests})"
            drifted = sorted(n for n, d in our_v.items() if d)
            if python is None:
                print(f"{label:<44}{our_s:>8.2f}s{'-':>11}  (Evidently not found: install the "
                      "bench extra or set EVIDENTLY_PYTHON)")  # fmt: skip
            else:
                SCORES.pop("evidently", None)
                their_s, their_v = evidently(python, reference, live, Path(tmp_name))
                same = their_v == our_v
                gaps = [abs((SCORES["ours"][n] or 0.0) - v) for n, v in SCORES["evidently"].items()]
                print(f"{label:<44}{our_s:>8.2f}s{their_s:>10.2f}s{their_s / our_s:>7.0f}x  "
                      f"{'yes' if same else 'NO'}")  # fmt: skip
                if not same:
                    diff = {n: (our_v.get(n), their_v.get(n)) for n in set(our_v) | set(their_v)
                            if our_v.get(n) != their_v.get(n)}  # fmt: skip
                    print(f"    differing (ours, Evidently): {diff}")
            print(f"    drifted: {', '.join(drifted)}")
            if python is not None:
                print(f"    largest score difference to Evidently: {max(gaps):.2g}")
        reference, live = make_data(args.rows, 100_000)
        count_s, psi_s, psi_v = counts_path(as_labels(reference), as_labels(live), args.repeat)
        drifted = sorted(n for n, d in psi_v.items() if d)
        print(f"{'drift from counts (the server way)':<44}count {count_s:.2f}s + PSI "
              f"{psi_s * 1000:.1f} ms; drifted: {', '.join(drifted)}")  # fmt: skip


def serving_report(args) -> None:
    """Print serving throughput with monitoring off and on (part 3)."""
    res = serving(args.duration, args.connections)
    print(f"serving, one worker, {args.connections} connections, {args.duration}s per run "
          "(off/on alternating):")  # fmt: skip
    for mode in ("off", "on"):
        rps = [r["rps"] for r in res[mode]]
        p99 = [r["p99"] for r in res[mode]]
        print(f"    monitoring {mode:<4} {', '.join(f'{x:.0f}' for x in rps)} req/s; "
              f"p99 {', '.join(f'{x:.1f}' for x in p99)} ms")  # fmt: skip
    off = sum(r["rps"] for r in res["off"]) / len(res["off"])
    on = sum(r["rps"] for r in res["on"]) / len(res["on"])
    print(f"    on / off: {on / off:.0%} of the throughput (target >= 95 %)")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f}s in all)")
