"""What a run ran on: Python, platform, installed packages, git state.

Captured once per process on a background thread (listing installed distributions takes tens
of milliseconds and git is a subprocess), so ``start_run`` never waits for it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any


def git_state(cwd: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """Commit, branch and dirty flag of the git repository around ``cwd`` (None outside one)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        root = git("rev-parse", "--show-toplevel")
    except (OSError, subprocess.SubprocessError):
        return None
    state: dict[str, Any] = {"root": root}
    try:
        state["commit"] = git("rev-parse", "HEAD")
    except subprocess.SubprocessError:
        state["commit"] = None  # a repository with no commit yet
    try:
        state["branch"] = git("rev-parse", "--abbrev-ref", "HEAD")
        state["dirty"] = bool(git("status", "--porcelain", "--untracked-files=no"))
    except subprocess.SubprocessError:
        state["branch"], state["dirty"] = None, None
    return state


def installed_packages() -> dict[str, str]:
    """Every installed distribution and its version, by normalized name."""
    from importlib.metadata import distributions

    packages: dict[str, str] = {}
    for dist in distributions():
        name = dist.name
        if name:
            packages[name.lower().replace("_", "-")] = dist.version
    return dict(sorted(packages.items()))


def capture_environment(cwd: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Describe the interpreter, the machine, the installed packages and the git state."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": installed_packages(),
        "git": git_state(cwd or Path.cwd()),
    }


def environment_json(env: dict[str, Any]) -> bytes:
    """Canonical JSON bytes (sorted keys), so identical environments share one blob."""
    return json.dumps(env, sort_keys=True, separators=(",", ":")).encode()


_future: Future | None = None
_future_lock = threading.Lock()


def environment_future() -> Future:
    """The process's environment, computed once on a daemon thread."""
    global _future
    with _future_lock:
        if _future is None:
            future: Future = Future()

            def work() -> None:
                try:
                    future.set_result(capture_environment())
                except BaseException as exc:  # reported to whoever waits on it
                    future.set_exception(exc)

            threading.Thread(target=work, name="mlops-environment", daemon=True).start()
            _future = future
        return _future


def _reset_after_fork() -> None:
    global _future, _future_lock
    _future, _future_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)
