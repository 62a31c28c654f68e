"""The automations API: add, change, list, run, pause, resume, remove, history.

``import kernel_magics as mlops`` users, the ``mlops automation`` CLI and ``mlops apply`` (GitOps)
all come here. Everything is checked before anything is stored: the spec (:mod:`.spec`), then
what it names in the world (the notebook exists and knows the parameters given, the alert rule
exists).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InvalidAutomationError, KernelMagicsError
from .spec import ALERT, RUN_NOTEBOOK, TEST, AutomationSpec, Step

if TYPE_CHECKING:
    from ..store import Store
    from ..store.automations import AutomationRecord
    from .engine import Execution

__all__ = [
    "add_automation", "update_automation", "automations", "get_automation", "run_automation",
    "pause_automation", "resume_automation", "delete_automation", "automation_history",
    "resolve_spec",
]  # fmt: skip


def _store(store: Store | None) -> Store:
    from ..store import open_store

    return store or open_store()


def _resolve_step(step: Step, index: int, base: Path) -> Step:
    options = dict(step.options)
    if step.kind == RUN_NOTEBOOK:
        path = (base / Path(options["notebook"]).expanduser()).resolve()
        where = f"steps[{index}].run_notebook.notebook"
        if path.suffix != ".ipynb" or not path.is_file():
            raise InvalidAutomationError(
                f"{where}: {options['notebook']!r} is "
                + ("not a file" if not path.exists() else "not a .ipynb notebook")
                + f" (looked in {base}). Give the path of a notebook, relative to that folder."
            )
        _check_parameters(path, options.get("parameters", {}), where)
        options["notebook"] = str(path)
    if step.kind == TEST and options.get("test_file"):
        path = (base / Path(options["test_file"]).expanduser()).resolve()
        if not path.is_file():
            raise InvalidAutomationError(
                f"steps[{index}].test.test_file: {options['test_file']!r} is not a file (looked "
                f"in {base}). Give the model's test file, relative to that folder."
            )
        options["test_file"] = str(path)
    return Step(step.kind, options)


def _check_parameters(path: Path, parameters: Mapping[str, Any], where: str) -> None:
    """Every parameter must be one the notebook's ``parameters`` cell defines."""
    from ..runner.parameters import load_notebook, parse_parameters

    try:
        _, nb = load_notebook(path)
        names = set(parse_parameters(nb, path.name)) if parameters else set()
    except KernelMagicsError as exc:
        raise InvalidAutomationError(f"{where}: {exc}") from None
    unknown = sorted(set(parameters) - names)
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        raise InvalidAutomationError(
            f"{where}: {path.name} has no parameter {', '.join(unknown)} (its parameters cell "
            f"defines: {known}). Remove it, or add it to the notebook's parameters cell."
        )


def resolve_spec(
    spec: AutomationSpec | Mapping[str, Any], base_dir: str | Path | None = None
) -> AutomationSpec:
    """Validate ``spec`` and make its file paths absolute (relative to ``base_dir``, or cwd).

    Raises
    ------
    InvalidAutomationError
        For a malformed spec, a missing notebook or test file, or an unknown parameter.
    """
    if not isinstance(spec, AutomationSpec):
        spec = AutomationSpec.from_dict(spec)
    base = Path(base_dir or Path.cwd()).expanduser().resolve()
    try:
        steps = tuple(_resolve_step(s, i, base) for i, s in enumerate(spec.steps, 1))
    except InvalidAutomationError as exc:
        raise InvalidAutomationError(f"automation {spec.name}: {exc}") from None
    return replace(spec, steps=steps)


def _check_sources(store: Store, spec: AutomationSpec) -> None:
    if spec.trigger.kind == ALERT:
        try:
            store.alerts.get(str(spec.trigger.target))
        except KernelMagicsError as exc:
            raise InvalidAutomationError(
                f"automation {spec.name}: trigger.alert: {exc} Create the rule first "
                "(`mlops alerts add`), or name an existing one."
            ) from None


def add_automation(
    spec: AutomationSpec | Mapping[str, Any],
    *,
    base_dir: str | Path | None = None,
    store: Store | None = None,
    now: float | None = None,
) -> AutomationRecord:
    """Add an automation: from now on its trigger's events run its steps.

    Parameters
    ----------
    spec : AutomationSpec or mapping
        The automation (the mapping form is what ``mlops.yaml`` holds).
    base_dir : path-like, optional
        The folder relative notebook and test-file paths start from (the working folder).
    store : Store, optional
        The resolved default store when omitted.
    now : float, optional
        Creation time (UTC epoch; the scheduler clock's in tests): only later cron fire times
        are events. Incidents and versions recorded before the call never are.

    Returns
    -------
    AutomationRecord

    Raises
    ------
    InvalidAutomationError
        For a malformed spec, a missing notebook, an unknown parameter or alert rule.
    ConflictError
        When an automation with that name exists.
    """
    from .triggers import watermark

    store = _store(store)
    checked = resolve_spec(spec, base_dir)
    _check_sources(store, checked)
    return store.automations.create(checked, now=now, start_mark=watermark(store, checked.trigger))


def update_automation(
    spec: AutomationSpec | Mapping[str, Any],
    *,
    base_dir: str | Path | None = None,
    store: Store | None = None,
    now: float | None = None,
) -> AutomationRecord:
    """Change the automation named like ``spec`` to ``spec`` (``mlops apply`` uses this).

    A changed trigger (or a resume) starts counting events afresh, as :func:`add_automation`.

    Raises
    ------
    AutomationNotFoundError
        When there is no automation of that name.
    InvalidAutomationError
        As :func:`add_automation`.
    """
    from .triggers import watermark

    store = _store(store)
    checked = resolve_spec(spec, base_dir)
    _check_sources(store, checked)
    mark = watermark(store, checked.trigger)
    return store.automations.replace(checked, now=now, start_mark=mark)


def automations(store: Store | None = None) -> list[AutomationRecord]:
    """Every automation of the store, by name."""
    return _store(store).automations.list()


def get_automation(name: str, store: Store | None = None) -> AutomationRecord:
    """One automation (:class:`~kernel_magics.errors.AutomationNotFoundError` if none)."""
    return _store(store).automations.get(name)


def pause_automation(name: str, store: Store | None = None) -> AutomationRecord:
    """Ignore the trigger until resumed; executions already running finish."""
    return _store(store).automations.set_enabled(name, False)


def resume_automation(
    name: str, store: Store | None = None, now: float | None = None
) -> AutomationRecord:
    """Follow the trigger again from now on (events while paused are skipped)."""
    from .triggers import watermark

    store = _store(store)
    record = store.automations.get(name)
    mark = watermark(store, record.spec.trigger)
    return store.automations.set_enabled(name, True, now=now, start_mark=mark)


def delete_automation(name: str, store: Store | None = None) -> AutomationRecord:
    """Remove an automation and its event history; its runs stay in the store."""
    return _store(store).automations.delete(name)


def automation_history(name: str, limit: int = 50, store: Store | None = None) -> list[dict]:
    """The newest trigger events of an automation with their attempts, newest first."""
    return _store(store).automations.history(name, limit)


def run_automation(
    name: str, store: Store | None = None, *, lease: float = 60.0, clock=None
) -> Execution | None:
    """Run an automation once, now, in this process (a ``manual`` event), and wait for it.

    Runs even while the automation is paused. The event is claimed like any other (so no
    scheduler runs it too) and its lease is renewed while it runs; a failed attempt with
    retries left is retried later by a scheduler.

    Returns
    -------
    Execution or None
        How it went (None if a scheduler claimed the event first and runs it there).
    """
    import os
    import socket
    import uuid

    from ..scheduler.clock import SystemClock
    from .engine import execute_claim
    from .triggers import manual_event

    store = _store(store)
    clock = clock or SystemClock()
    record = store.automations.get(name)
    owner = f"{socket.gethostname()}:{os.getpid()}:run-{uuid.uuid4().hex[:6]}"
    now = clock.now()
    event_id = store.automations.add_manual(record, manual_event(record, now), now)
    claims = store.automations.claim(owner, now, lease, 1, event_id=event_id)
    if not claims:
        return None
    done = threading.Event()

    def renew() -> None:
        while not done.wait(lease / 4):
            store.automations.renew(owner, clock.now(), lease)

    renewer = threading.Thread(target=renew, daemon=True, name="mlops-automation-lease")
    renewer.start()
    try:
        return execute_claim(store, claims[0], owner, clock.now)
    finally:
        done.set()
        renewer.join()
