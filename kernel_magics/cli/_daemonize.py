"""``mlops scheduler``: foreground or a detached daemon with a pid file and a log file."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from ..core.store.liveness import pid_alive
from ..errors import ConflictError, NotFoundError


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _stop(pid_file: Path) -> None:
    pid = _read_pid(pid_file)
    if pid is None or not pid_alive(pid):
        raise NotFoundError(f"No scheduler daemon is running (no live pid in {pid_file}).")
    os.kill(pid, signal.SIGTERM)
    for _ in range(600):
        if not pid_alive(pid):
            click.echo(f"Stopped the scheduler (pid {pid}).")
            return
        time.sleep(0.1)
    raise ConflictError(
        f"The scheduler (pid {pid}) did not stop within 60 s; kill it with "
        f"`kill -9 {pid}` (its slots are then retried by the next scheduler)."
    )


def _daemonize(pid_file: Path, log_file: Path) -> bool:
    """Double-fork; return True in the daemon, False in the original process."""
    read_end, write_end = os.pipe()
    if os.fork():
        os.close(write_end)
        with os.fdopen(read_end) as ready:
            pid = ready.read().strip()
        if not pid:
            raise ConflictError(f"The scheduler daemon failed to start; see {log_file}.")
        click.echo(
            f"Scheduler started in the background (pid {pid}). Log: {log_file}. "
            f"Stop it with `mlops scheduler --stop --pid-file {pid_file}`."
        )
        return False
    os.close(read_end)
    os.setsid()
    if os.fork():
        os._exit(0)
    log_fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    pid_file.write_text(f"{os.getpid()}\n")
    os.write(write_end, str(os.getpid()).encode())
    os.close(write_end)
    return True


def run_scheduler_process(
    *,
    daemon: bool,
    pid_file: str | None,
    log_file: str | None,
    stop: bool,
    options: dict[str, Any],
    verbose: bool,
) -> None:
    """Run the scheduler in this process (or detached), until SIGTERM/SIGINT."""  # fmt: skip
    from ..core.config import resolve_location
    from ..core.scheduler.daemon import Scheduler
    from ..core.store import close_stores, open_store

    location = resolve_location()
    home = location.home or Path.cwd() / ".mlops"
    home.mkdir(parents=True, exist_ok=True)
    pid_path = Path(pid_file) if pid_file else home / "scheduler.pid"
    log_path = Path(log_file) if log_file else home / "scheduler.log"
    if stop:
        _stop(pid_path)
        return
    if daemon:
        old = _read_pid(pid_path)
        if old is not None and pid_alive(old):
            raise ConflictError(f"A scheduler daemon is already running (pid {old}, {pid_path}). "
                                "Stop it with `mlops scheduler --stop`, or pass another "
                                "--pid-file to run a second one.")  # fmt: skip
    Scheduler(open_store(location), **options)  # validate the options and the store up front
    close_stores()
    if daemon and not _daemonize(pid_path, log_path):
        return
    logging.basicConfig(level=logging.INFO if verbose or daemon else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)  # fmt: skip
    stop_event = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_event.set())
    scheduler = Scheduler(open_store(location), **options)
    logging.getLogger("kernel_magics.scheduler").info(
        "scheduler %s started on %s", scheduler.owner, location.store_uri.split("@")[-1]
    )
    if not daemon:
        click.echo(f"Scheduler {scheduler.owner} running on {location.store_uri.split('@')[-1]}; "
                   "Ctrl-C to stop.", err=True)  # fmt: skip
    try:
        scheduler.run(stop_event, drain=30.0)
    finally:
        if daemon and _read_pid(pid_path) == os.getpid():
            pid_path.unlink(missing_ok=True)
        close_stores()
