"""The alerts API shared by ``mlops alerts``, ``%mlops alerts`` and ``kernel_magics``.

Everything a rule holds is checked here, before it is stored: the model reference (its model
must be registered), each condition's metric and threshold, the window, the channels.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...errors import InvalidAlertError, ValidationError
from .alerts import parse_channel, parse_condition, parse_window

if TYPE_CHECKING:
    from ..store import Store
    from ..store.alerts import AlertRule, Incident

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _store(store: Store | None) -> Store:
    from ..store import open_store

    return store or open_store()


def add_alert(name: str, model: str, when: str | Sequence[str], *, window: str | float = "1h",
              notify: str | Sequence[str] = (), store: Store | None = None,
              now: float | None = None) -> AlertRule:  # fmt: skip
    """Create an alert rule; the scheduler evaluates it once a minute from then on.

    Parameters
    ----------
    name : str
        Unique rule name (letters, digits, ``-``, ``_``, ``.``).
    model : str
        The monitored model: ``churn``, ``churn/3`` or ``churn@production``.
    when : str or list of str
        Conditions such as ``"accuracy < 0.85"``; the rule fires when any holds.
    window : str or float
        How much monitoring data each evaluation looks at: ``15m``, ``1h``, ``1d`` or seconds.
    notify : str or list of str
        ``command:PROGRAM ARGS`` and/or ``webhook:URL``, told once per incident.
    store : Store, optional
    now : float, optional
        Creation time (epoch seconds).

    Returns
    -------
    AlertRule

    Raises
    ------
    InvalidAlertError
        For a malformed name, condition (an unknown metric lists the valid ones), window or
        channel; ModelNotFoundError for a model that is not registered; ConflictError when the
        name is taken.
    """
    from ..registry.records import parse_ref

    if not name or not set(name) <= _NAME_CHARS or len(name) > 255:
        raise InvalidAlertError(
            f"The alert name {name!r} must be 1-255 letters, digits, '-', '_' or '.'; "
            "e.g. churn-accuracy."
        )
    conditions = [when] if isinstance(when, str) else list(when)
    if not conditions:
        raise InvalidAlertError("An alert needs a condition: --when 'accuracy < 0.85'.")
    parsed = [str(parse_condition(c)) for c in conditions]
    seconds = parse_window(window)
    channels = [notify] if isinstance(notify, str) else list(notify)
    channels = [parse_channel(c) for c in channels]
    try:
        ref = parse_ref(model)
    except ValidationError as exc:
        raise InvalidAlertError(f"--model: {exc}") from None
    store = _store(store)
    store.models.get_model(ref.name)  # unknown model: the error names the registered ones
    return store.alerts.create(name, model.strip(), parsed, seconds, channels,
                               now=time.time() if now is None else now)  # fmt: skip


def list_alerts(store: Store | None = None) -> list[AlertRule]:
    """Every alert rule, by name."""
    return _store(store).alerts.list()


def get_alert(name: str, store: Store | None = None) -> AlertRule:
    """One alert rule (AlertNotFoundError names the known ones)."""
    return _store(store).alerts.get(name)


def remove_alert(name: str, store: Store | None = None) -> AlertRule:
    """Delete an alert rule and its incident history; return the rule as it was."""
    return _store(store).alerts.delete(name)


def pause_alert(name: str, store: Store | None = None) -> AlertRule:
    """Stop evaluating a rule (its open incident, if any, stays open)."""
    return _store(store).alerts.set_paused(name, True)


def resume_alert(name: str, store: Store | None = None) -> AlertRule:
    """Evaluate a paused rule again from the next minute on."""
    return _store(store).alerts.set_paused(name, False)


def alert_history(name: str | None = None, limit: int = 50,
                  store: Store | None = None) -> list[Incident]:  # fmt: skip
    """Incidents, newest first (of rule ``name`` only, when given)."""
    if limit < 1:
        raise ValidationError(f"--limit must be at least 1 (got {limit}).")
    return _store(store).alerts.history(name, limit)


def open_incidents(store: Store | None = None) -> dict[int, Incident]:
    """The open incident of each rule that has one, by rule id."""
    return _store(store).alerts.open_incidents()
