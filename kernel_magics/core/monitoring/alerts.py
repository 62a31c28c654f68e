"""Alert rules: parsing, evaluation over a monitoring window, and the incident state machine.

A rule says "tell these channels when any of these conditions holds for this model":
conditions are ``METRIC OP NUMBER`` with a metric from
:data:`kernel_magics.core.monitoring.windows.METRICS` (``accuracy < 0.85``,
``drift.share > 0.3``, ``latency.p99_ms > 100``, ``errors.rate > 0.01``).

Each evaluation reads the rule's latest window through :func:`~.windows.summarize` and gives a
:class:`Verdict`:

* ``firing`` - at least one condition holds;
* ``ok`` - every condition is known and none holds;
* ``no data`` - the window has too few rows, or no condition holds but one cannot be known
  (accuracy before any label arrived).

The incident state machine (:func:`apply`): ``firing`` opens an incident when none is open
(and notifies, once) or keeps the open one; ``ok`` resolves the open one; ``no data`` changes
nothing, so it never opens an incident and never resolves one on a quiet night.
"""

from __future__ import annotations

import difflib
import logging
import math
import operator
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import InvalidAlertError, ValidationError

if TYPE_CHECKING:
    from ..store import Store
    from ..store.alerts import AlertRule, Incident

log = logging.getLogger("kernel_magics.alerts")

#: Seconds between two evaluations of a rule (every scheduler evaluates on minute boundaries).
EVALUATION_INTERVAL_S = 60.0

FIRING, OK, NO_DATA = "firing", "ok", "no data"

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}  # fmt: skip
_CONDITION = re.compile(r"^\s*(?P<metric>[A-Za-z_][\w.]*)\s*(?P<op><=|>=|<|>)\s*(?P<value>\S+)\s*$")
#: The longest window a rule may look at (longer ones re-read weeks of buckets every minute).
MAX_WINDOW_S = 30 * 86400.0


def _metrics() -> tuple[str, ...]:
    from .windows import METRICS

    return METRICS


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``, e.g. ``accuracy < 0.85``."""

    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"

    def holds(self, value: float | None) -> bool | None:
        """Whether the condition holds for ``value``; None when the value is unknown."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return _OPERATORS[self.op](float(value), self.threshold)


def parse_condition(text: str) -> Condition:
    """Parse ``"accuracy < 0.85"``.

    Raises
    ------
    InvalidAlertError
        When the text is not ``METRIC OP NUMBER`` or the metric is not one of
        :data:`~.windows.METRICS` (the message lists them, and the closest match).
    """
    metrics = _metrics()
    match = _CONDITION.match(text or "")
    if match is None:
        raise InvalidAlertError(
            f"Cannot read the condition {text!r}: write METRIC OP NUMBER, e.g. "
            f"'accuracy < 0.85', with OP one of <, <=, >, >=. Metrics: {', '.join(metrics)}."
        )
    metric, op, raw = match["metric"], match["op"], match["value"]
    if metric not in metrics:
        close = difflib.get_close_matches(metric, metrics, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidAlertError(
            f"Unknown metric {metric!r} in {text!r}.{hint} Valid metrics: {', '.join(metrics)}."
        )
    try:
        threshold = float(raw)
    except ValueError:
        threshold = math.nan
    if not math.isfinite(threshold):
        raise InvalidAlertError(
            f"The threshold {raw!r} in {text!r} is not a finite number; write e.g. "
            f"'{metric} {op} 0.85'."
        )
    return Condition(metric, op, threshold)


def parse_window(text: str | float) -> float:
    """Seconds of a window given as ``15m``, ``1h``, ``1d``, ``1w`` or a number of seconds.

    The same forms as ``mlops monitor --window`` (:func:`~.windows.parse_duration`).

    Raises
    ------
    InvalidAlertError
        When it is not a duration between one minute and 30 days.
    """
    from .windows import parse_duration

    try:
        seconds = parse_duration(text)
    except ValidationError as exc:
        raise InvalidAlertError(f"Cannot read the window: {exc}") from None
    if not (EVALUATION_INTERVAL_S <= seconds <= MAX_WINDOW_S):
        raise InvalidAlertError(
            f"The window must be between 1m and 30d (got {text!r}); e.g. --window 1h."
        )
    return seconds


def parse_channel(text: str) -> str:
    """Check a notification channel, ``command:PROGRAM ARGS`` or ``webhook:URL``; return it.

    Raises
    ------
    InvalidAlertError
        For another form, a command that does not split into a program, or a non-http(s) URL.
    """
    from ..scheduler.notify import check_command, check_webhook

    kind, sep, target = (text or "").partition(":")
    target = target.strip()
    if sep and kind == "command":
        check_command(target, f"--notify command:{target}", InvalidAlertError)
        if not shlex.split(target):
            raise InvalidAlertError("--notify command: is empty; give a program to run.")
        return f"command:{target}"
    if sep and kind == "webhook":
        check_webhook(target, "--notify webhook:", InvalidAlertError)
        return f"webhook:{target}"
    raise InvalidAlertError(
        f"Cannot read the notification channel {text!r}: give command:PROGRAM (run with the "
        "JSON message on stdin) or webhook:https://... (POSTed the JSON message)."
    )


@dataclass(frozen=True)
class Verdict:
    """What one evaluation of a rule found.

    Attributes
    ----------
    state : str
        ``firing``, ``ok`` or ``no data``.
    window : (float, float)
        The window evaluated (epoch seconds).
    values : dict
        Every condition's metric value (None when unknown), by condition text.
    broken : dict
        The conditions that hold, with their values (empty unless firing).
    """

    state: str
    window: tuple[float, float]
    values: dict[str, float | None] = field(default_factory=dict)
    broken: dict[str, float] = field(default_factory=dict)


def judge(conditions: Sequence[Condition], summary: Any) -> Verdict:
    """The verdict of ``conditions`` on one window summary (a :class:`~.windows.WindowSummary`)."""
    window = (float(summary.start), float(summary.end))
    values = {str(c): summary.values.get(c.metric) for c in conditions}
    if not summary.enough_data:
        return Verdict(NO_DATA, window, values)
    held = {str(c): c.holds(summary.values.get(c.metric)) for c in conditions}
    broken = {k: float(v) for k, v in values.items() if held[k] and v is not None}
    if broken:
        return Verdict(FIRING, window, values, broken)
    return Verdict(OK if all(h is not None for h in held.values()) else NO_DATA, window, values)


#: ``summarize(store, model_ref, *, since, until, window_s)`` (tests inject their own).
Summarizer = Callable[..., list[Any]]


def latest_window(store: Store, rule: AlertRule, until: float,
                  summarize: Summarizer | None = None) -> Any | None:  # fmt: skip
    """The window a rule is judged on at ``until``: the current one, or the one before it.

    Windows are aligned as in ``mlops monitor`` (a 1h window starts on the hour), so an alert
    and the monitor table show the same figures. Early in a window, while the current one has
    too few rows, the previous (complete) window is judged instead.
    """
    if summarize is None:
        from .windows import summarize as summarize_windows

        summarize = summarize_windows
    w = rule.window_s
    since = math.floor(until / w) * w - w  # the previous window and the current one
    windows = summarize(store, rule.model_ref, since=since, until=until, window_s=w)
    if not windows:
        return None
    latest = windows[-1]
    if not latest.enough_data and len(windows) > 1:
        return windows[-2]
    return latest


@dataclass(frozen=True)
class Transition:
    """What one evaluation did to a rule's incidents."""

    rule: str
    verdict: Verdict
    change: str  # opened, still open, resolved, none
    incident: Incident | None = None
    problems: tuple[str, ...] = ()


_UNREAD: Any = object()


def apply(store: Store, rule: AlertRule, verdict: Verdict, now: float,
          current: Incident | None = _UNREAD) -> Transition:  # fmt: skip
    """Move the rule's incident state by one verdict (see the module docstring).

    ``current`` is the rule's open incident (or None) as the caller read it; it only spares
    a write when nothing is open. The transitions themselves are each one transaction in the
    store (:meth:`~kernel_magics.core.store.alerts.AlertRepository.fire` and ``resolve``), so
    two evaluators racing on one rule still open one incident and notify once.
    """
    repo = store.alerts
    if current is _UNREAD:
        current = repo.open_incident(rule.id)
    if verdict.state == FIRING:
        incident, created = repo.fire(rule.id, now, verdict.window, verdict.broken)
        if not created:
            return Transition(rule.name, verdict, "still open", incident)
        problems = notify(store, rule, incident, now)
        return Transition(rule.name, verdict, "opened", repo.incident(incident.id), problems)
    if verdict.state == OK and current is not None:
        resolved = repo.resolve(rule.id, now)
        if resolved is not None:
            return Transition(rule.name, verdict, "resolved", resolved)
    return Transition(rule.name, verdict, "none", current)


def notify(store: Store, rule: AlertRule, incident: Incident, now: float) -> tuple[str, ...]:
    """Send an opened incident to every channel of its rule, once; record when and what failed."""
    from ..scheduler.notify import alert_message, deliver

    if not rule.notify:
        return ()
    message = alert_message(rule, incident)
    problems: list[str] = []
    for channel in rule.notify:
        kind, _, target = channel.partition(":")
        problems += deliver(message, command=target if kind == "command" else None,
                            webhook=target if kind == "webhook" else None)  # fmt: skip
    for problem in problems:
        log.warning("alert %s: %s", rule.name, problem)
    store.alerts.notified(incident.id, now, "; ".join(problems)[:500] or None)
    return tuple(problems)


def evaluate(store: Store, rule: AlertRule, now: float, summarize: Summarizer | None = None,
             windows: dict[tuple[str, float], Any] | None = None,
             current: Incident | None = _UNREAD) -> Transition:  # fmt: skip
    """Judge ``rule`` on its latest window at ``now`` and apply the verdict.

    ``windows`` memoizes the window per ``(model_ref, window_s)`` within one pass, so rules
    watching the same model over the same window read it once; ``current`` is as in
    :func:`apply`.
    """
    conditions = [parse_condition(c) for c in rule.conditions]
    key = (rule.model_ref, rule.window_s)
    if windows is not None and key in windows:
        summary = windows[key]
    else:
        summary = latest_window(store, rule, now, summarize)
        if windows is not None:
            windows[key] = summary
    if summary is None:
        verdict = Verdict(NO_DATA, (now - rule.window_s, now))
    else:
        verdict = judge(conditions, summary)
    return apply(store, rule, verdict, now, current)


def evaluate_due(store: Store, now: float, summarize: Summarizer | None = None) -> list[Transition]:
    """Evaluate, for the minute ``now`` falls in, every active rule nobody evaluated yet.

    The rules are claimed for the minute first (:meth:`AlertRepository.claim_due`), so with
    several schedulers each rule is evaluated once per minute between them. A rule that fails
    (its model was deleted...) is logged and the others go on.
    """
    minute = math.floor(now / EVALUATION_INTERVAL_S) * EVALUATION_INTERVAL_S
    done = []
    windows: dict[tuple[str, float], Any] = {}
    rules = store.alerts.claim_due(minute)
    current = store.alerts.open_incidents() if rules else {}
    for rule in rules:
        try:
            done.append(evaluate(store, rule, minute, summarize, windows,
                                 current.get(rule.id)))  # fmt: skip
        except Exception as exc:
            log.warning("alert %s: could not be evaluated: %s", rule.name, exc)
    return done
