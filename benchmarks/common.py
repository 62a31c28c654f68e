"""Helpers shared by the benchmark scripts: timing, subprocess timing, the comparison table."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def best_of(fn: Callable[[], float], repeat: int = 5) -> float:
    """Run ``fn`` (which returns seconds) ``repeat`` times; return the median."""
    return statistics.median(fn() for _ in range(repeat))


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def subprocess_seconds(code: str, env: dict | None = None, cwd: str | None = None) -> float:
    """Wall time of a fresh interpreter running ``code`` (start-up and exit included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=cwd, capture_output=True)
    return time.perf_counter() - start


def subprocess_value(code: str, env: dict | None = None, cwd: str | None = None) -> float:
    """Run ``code`` in a fresh interpreter; it prints one float, which is returned."""
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=cwd,
                         capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def fmt(seconds: float) -> str:
    """Human units for a duration."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


class Table:
    """Collects rows of (what, ours, theirs, target) and prints a Markdown table."""

    def __init__(self, ours: str, theirs: str):
        self.ours, self.theirs = ours, theirs
        self.rows: list[tuple[str, float, float | None, str]] = []

    def add(self, what: str, ours: float, theirs: float | None, target: str = "") -> None:
        self.rows.append((what, ours, theirs, target))
        ratio = f"{theirs / ours:.1f}x faster" if theirs else "n/a"
        print(
            f"  {what}: {self.ours} {fmt(ours)} | {self.theirs} {fmt(theirs) if theirs else '-'} | {ratio}",
            flush=True,
        )

    def markdown(self) -> str:
        lines = [f"| measurement | {self.ours} | {self.theirs} | ratio ({self.theirs} / {self.ours}) | target |",
                 "|---|---|---|---|---|"]  # fmt: skip
        for what, ours, theirs, target in self.rows:
            ratio = f"{theirs / ours:.1f}x" if theirs else "n/a"
            lines.append(
                f"| {what} | {fmt(ours)} | {fmt(theirs) if theirs else '-'} | {ratio} | {target} |"
            )
        return "\n".join(lines)
