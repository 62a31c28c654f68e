"""The scheduling API: create, list, pause, resume, delete, run now, history.

``import kernel_magics as mlops`` exposes these as ``mlops.schedule(...)``,
``mlops.schedules()``, ``mlops.schedule_history(...)`` and so on; the CLI and the magic are
thin layers over them. Everything is validated before anything is stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InvalidScheduleError, ValidationError
from ..store.schedules import ScheduleOptions, ScheduleRecord
from .catchup import check_policy
from .cron import next_fire_times, validate_cron, validate_timezone
from .notify import check_command, check_webhook

if TYPE_CHECKING:
    from ..store import Store
    from ..store.slots import SlotEnd

__all__ = [
    "schedule", "schedules", "get_schedule", "pause_schedule", "resume_schedule",
    "delete_schedule", "run_schedule_now", "schedule_history", "next_runs", "ScheduleOptions",
]  # fmt: skip


def _store(store: Store | None) -> Store:
    from ..store import open_store

    return store or open_store()


def _check_number(name: str, value: Any, minimum: float, integer: bool = False) -> Any:
    if value is None:
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum or (integer and float(value) != number):
        kind = "a whole number" if integer else "a number"
        raise InvalidScheduleError(f"{name} must be {kind} >= {minimum:g}, got {value!r}.")
    return number


def validate_notebook_parameters(
    path: Path, parameters: Mapping[str, Any] | None, from_text: bool = False
) -> dict[str, Any]:
    """Check parameters against the notebook's ``parameters`` cell; return converted values.

    Raises
    ------
    ValidationError
        When the notebook is unreadable or a parameter is unknown or of the wrong type.
    """
    from ..runner.parameters import load_notebook, parse_parameters, validate_parameters

    _, nb = load_notebook(path)
    specs = parse_parameters(nb, path.name)
    return validate_parameters(specs, dict(parameters or {}), path.name, from_text=from_text)


def check_schedule(
    notebook: str | Path, options: ScheduleOptions, parameters_from_text: bool = False
) -> tuple[Path, ScheduleOptions]:
    """Validate a notebook and its schedule options (what :func:`schedule` and GitOps store).

    Returns
    -------
    (Path, ScheduleOptions)
        The notebook's absolute path, and the options normalized (timezone resolved).

    Raises
    ------
    InvalidScheduleError, ValidationError
        As :func:`schedule` does.
    """
    path = Path(notebook).expanduser().resolve()
    if path.suffix != ".ipynb" or not path.is_file():
        raise ValidationError(
            f"Cannot schedule {notebook}: "
            + ("no such file." if not path.exists() else "not a .ipynb notebook.")
            + " Give the path of a notebook, e.g. "
            "`mlops schedule add train.ipynb --cron '0 3 * * *'`."
        )
    checked = replace(
        options,
        cron=validate_cron(options.cron),
        timezone=validate_timezone(options.timezone).key,
        parameters=validate_notebook_parameters(path, options.parameters, parameters_from_text),
        timeout=_check_number("timeout", options.timeout, 1),
        retries=_check_number("retries", options.retries, 0, integer=True),
        retry_delay=_check_number("retry_delay", options.retry_delay, 0),
        catchup=check_policy(options.catchup),
        notify_command=check_command(options.notify_command),
        notify_webhook=check_webhook(options.notify_webhook),
    )
    return path, checked


def schedule(
    notebook: str | Path,
    options: ScheduleOptions | str,
    *,
    name: str | None = None,
    parameters_from_text: bool = False,
    store: Store | None = None,
    now: float | None = None,
) -> ScheduleRecord:
    """Schedule a notebook: every fire time of its cron becomes one tracked papermill run.

    Parameters
    ----------
    notebook : path-like
        The ``.ipynb`` to run (stored as an absolute path).
    options : ScheduleOptions or str
        When it fires and how it runs (cron, timezone, parameters, timeout, retries, catch-up
        policy, notification); a plain string is a cron expression with default options.
    name : str, optional
        Unique schedule name; the notebook's file name without ``.ipynb`` by default.
    parameters_from_text : bool
        The parameter values are command-line text to convert to the defaults' types
        (``-p C=0.1``).
    store : Store, optional
        The resolved default store when omitted.
    now : float, optional
        Creation time (UTC epoch); only later fire times create slots.

    Returns
    -------
    ScheduleRecord
        The stored schedule (``next_runs(record)`` gives its next fire times).

    Raises
    ------
    InvalidScheduleError
        For a bad cron expression, timezone, policy, number or notification target.
    ValidationError
        When the notebook is missing or a parameter does not match it.
    ConflictError
        When a schedule with that name exists.
    """
    if isinstance(options, str):
        options = ScheduleOptions(cron=options)
    elif not isinstance(options, ScheduleOptions):
        raise InvalidScheduleError(
            f"Give the schedule a cron string or ScheduleOptions(cron=...), not "
            f"{type(options).__name__}."
        )
    path, checked = check_schedule(notebook, options, parameters_from_text)
    name = (name or path.stem).strip()
    if not name or len(name) > 255 or any(c.isspace() for c in name):
        raise InvalidScheduleError(f"Schedule name {name!r} must be 1-255 characters, no spaces.")
    return _store(store).schedules.create(name, str(path), checked, now=now)


def next_runs(record: ScheduleRecord, count: int = 3, after: float | None = None) -> list:
    """Return the next ``count`` fire times of a schedule (aware datetimes in its timezone)."""
    return next_fire_times(
        record.cron,
        record.timezone,
        count,
        after=max(record.start_at, after if after is not None else time.time()),
    )


def schedules(store: Store | None = None) -> list[ScheduleRecord]:
    """Every schedule of the store."""
    return _store(store).schedules.list()


def get_schedule(name: str, store: Store | None = None) -> ScheduleRecord:
    """One schedule by name (:class:`~kernel_magics.errors.ScheduleNotFoundError` if none)."""
    return _store(store).schedules.get(name)


def pause_schedule(name: str, store: Store | None = None) -> ScheduleRecord:
    """Stop creating slots; slots already running finish."""
    return _store(store).schedules.set_paused(name, True)


def resume_schedule(
    name: str, store: Store | None = None, now: float | None = None
) -> ScheduleRecord:
    """Start creating slots again from now on (fire times while paused are skipped)."""
    return _store(store).schedules.set_paused(name, False, now=now)


def delete_schedule(name: str, store: Store | None = None) -> ScheduleRecord:
    """Delete a schedule and its slot history; its runs stay in the store."""
    return _store(store).schedules.delete(name)


def schedule_history(name: str, limit: int = 50, store: Store | None = None) -> list[dict]:
    """Return the newest slots of a schedule with their attempts, newest first."""
    return _store(store).schedules.history(name, limit)


def run_schedule_now(
    name: str, store: Store | None = None, executor=None, lease: float = 60.0
) -> SlotEnd | None:
    """Fire a schedule once, now, in this process (a ``manual`` slot), and wait for it.

    The slot is claimed like any other (so no scheduler runs it too) and its lease is renewed
    while it runs. A failed attempt with retries left is retried later by a scheduler.

    Returns
    -------
    SlotEnd or None
        How the attempt ended (None if the lease was lost meanwhile).
    """
    from .daemon import Scheduler

    store = _store(store)
    record = store.schedules.get(name)
    scheduler = Scheduler(store, executor=executor, lease=lease, poll_interval=lease / 4)
    slots = store.slots
    now = scheduler.clock.now()
    slot_id = slots.add_manual(record, now)
    claims = slots.claim(scheduler.owner, now, lease, 1, slot_id=slot_id)
    if not claims:  # a scheduler took it in between: it runs there
        return None
    done = threading.Event()

    def renew() -> None:
        while not done.wait(scheduler.poll_interval):
            slots.renew(scheduler.owner, scheduler.clock.now(), lease)

    renewer = threading.Thread(target=renew, daemon=True, name="mlops-run-now-lease")
    renewer.start()
    try:
        return scheduler.execute_claim(claims[0])
    finally:
        done.set()
        renewer.join()
