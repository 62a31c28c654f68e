"""Guards on full deploys and promotions: roll ``model@alias`` back when a condition breaks.

``mlops deploy churn@production --guard "errors.rate < 0.01" --for 15m`` (and ``mlops promote
... --guard``) records a guard on the version the alias now serves. The scheduler's tick
(:func:`evaluate_guards`, one call in :mod:`kernel_magics.core.scheduler.daemon`) judges every
watching guard on the version's monitoring since the guard started: the same window summary
alert rules read (:func:`~kernel_magics.core.monitoring.windows.summarize_buckets`), so
``accuracy >= 0.85`` works once labels arrive. A guard is what must keep holding: when one of
its conditions is false, the alias rolls back to the previous version with the existing
zero-downtime :func:`~.deployments.rollback`, the channels are told, and the guard is recorded
``rolled_back``. A guard whose period ends unbroken is ``passed``; until the window holds
enough rows (``min_rows``), nothing is judged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from ..names import GUARD_BROKEN, GUARD_FAILED, GUARD_PASSED, GUARD_ROLLED_BACK
from ..store import Store, open_store
from ..store.challengers import DeploymentGuard

log = logging.getLogger("kernel_magics.serving")


def guard_deployment(
    model: str,
    alias: str,
    version: int,
    previous_version: int | None,
    conditions: Sequence[str],
    guard_for_s: float,
    notify: Sequence[str] = (),
    *,
    store: Store | None = None,
    now: float | None = None,
) -> DeploymentGuard:
    """Start guarding ``model@alias`` at ``version`` (conditions already checked).

    Use :func:`guard_alias` from user input; this records what it is given.
    """
    store = store or open_store()
    guard_id = store.challengers.add_guard(
        model=model, alias=alias, version=version, previous_version=previous_version,
        conditions=list(conditions), notify=list(notify), guard_for_s=guard_for_s, now=now,
    )  # fmt: skip
    return store.challengers.guard(guard_id)


def guard_alias(
    name: str,
    alias: str | None,
    guards: Any,
    guard_for: str | float = "15m",
    notify: Any = (),
    *,
    previous_version: int | None = None,
    store: Store | None = None,
) -> DeploymentGuard | None:
    """Guard what ``name@alias`` serves now (None when ``guards`` is empty).

    ``previous_version`` is where a broken guard rolls back to (the alias history's previous
    version when omitted; with none, a broken guard only notifies and is recorded).

    Raises
    ------
    InvalidGuardError
        For a malformed guard, period or channel, or guards on a deploy of no alias.
    """
    from ...errors import ConflictError, InvalidGuardError
    from ..registry import parse_ref, registry
    from .challengers import parse_guard_for, parse_guards, parse_notify

    conditions = parse_guards(guards)
    if not conditions:
        return None
    seconds = parse_guard_for(guard_for)
    channels = parse_notify(notify)
    if alias is None:
        raise InvalidGuardError(
            "A guard rolls an alias back: deploy an alias (e.g. churn@production) to guard it."
        )
    store = store or open_store()
    models = registry(store)
    version = models.get_version(parse_ref(f"{name}@{alias}")).version
    if previous_version is None:
        try:
            previous_version = int(models.rollback_target(name, alias))
        except ConflictError:  # the alias's first version: nothing to go back to
            previous_version = None
    return guard_deployment(name, alias, version, previous_version, conditions, seconds,
                            channels, store=store)  # fmt: skip


def check_guard_options(guards: Any, guard_for: str | float, notify: Any = ()) -> None:
    """Validate guard options before any work starts (the CLI calls it first).

    Raises
    ------
    InvalidGuardError
    """
    from .challengers import parse_guard_for, parse_guards, parse_notify

    parse_guards(guards)
    parse_guard_for(guard_for)
    parse_notify(notify)


def judge_guard(store: Store, guard: DeploymentGuard, now: float) -> Any:
    """The verdict of ``guard``'s conditions on its version's monitoring since it started.

    A :class:`~kernel_magics.core.monitoring.alerts.Verdict` whose state is ``broken`` (with
    the conditions that no longer hold), ``ok``, or ``no data`` (too few rows to judge).
    """
    from ..monitoring.alerts import Condition, Verdict, parse_condition
    from ..monitoring.collector import DEFAULT_BUCKET_SECONDS
    from ..monitoring.drift import DriftConfig
    from ..monitoring.windows import summarize_buckets
    from ..registry.records import parse_ref

    version = store.models.get_version(parse_ref(f"{guard.model}/{guard.version}"))
    since, until = guard.started_at, max(now, guard.started_at + 1e-3)
    # Buckets are selected by their start: the one open when the guard started began before
    # it, and holds the version's first requests (a just-deployed version has no older rows).
    first = since - DEFAULT_BUCKET_SECONDS
    buckets = store.monitoring.buckets(version.name, version.version, since=first, until=until)
    labelled = store.monitoring.labelled(version.name, since, until, version=version.version)
    # One window covering the whole guard period: a window length of ``until`` puts the first
    # aligned start at 0, and only the period's buckets are counted.
    (summary,) = summarize_buckets(
        buckets, version.profile, since=first, until=until, window_s=until,
        config=DriftConfig.from_tags(version.tags), labelled=labelled,
    )  # fmt: skip
    conditions: list[Condition] = [parse_condition(c) for c in guard.conditions]
    values = {str(c): summary.values.get(c.metric) for c in conditions}
    window = (since, until)
    if not summary.enough_data:
        return Verdict("no data", window, values)
    broken = {
        str(c): float(v)
        for c in conditions
        if (v := summary.values.get(c.metric)) is not None and c.holds(v) is False
    }
    return Verdict("broken" if broken else "ok", window, values, broken)


def notify_guard(channels: Sequence[str], message: dict[str, Any]) -> list[str]:
    """Send a broken-guard message to each channel; return the problems met."""
    from ..scheduler.notify import deliver

    problems: list[str] = []
    for channel in channels:
        kind, _, target = channel.partition(":")
        problems += deliver(message, command=target if kind == "command" else None,
                            webhook=target if kind == "webhook" else None)  # fmt: skip
    for problem in problems:
        log.warning("guard: %s", problem)
    return problems


def _still_serves(store: Store, guard: DeploymentGuard) -> bool:
    from ..registry import parse_ref, registry

    current = registry(store).get_version(parse_ref(f"{guard.model}@{guard.alias}"))
    return current.version == guard.version


def evaluate_guards(store: Store, now: float | None = None) -> list[DeploymentGuard]:
    """Judge every watching deployment guard once; roll back the broken ones.

    Called by the scheduler's tick. Returns the guards that ended.
    """
    now = time.time() if now is None else now
    ended = []
    for guard in store.challengers.guards(watching_only=True):
        done = evaluate_guard(store, guard, now)
        if done is not None:
            ended.append(done)
    return ended


def evaluate_guard(store: Store, guard: DeploymentGuard, now: float) -> DeploymentGuard | None:
    """Judge one watching guard at ``now``; roll back when broken. The guard once it ended.

    The scheduler's tick calls it for every guard, and an automation's guarded
    ``promote_challenger`` step for its own while it waits for the verdict. Each ending is
    claimed in the store first
    (:meth:`~kernel_magics.core.store.challengers.ChallengerRepository.end_guard`), so of two
    judges (two schedulers, or a scheduler and the step) only one rolls back.

    Returns
    -------
    DeploymentGuard or None
        The ended guard (``passed``, ``rolled_back``, ``broken``, ``failed``); None while it is
        still watching, or when another judge ended it first.
    """
    from .deployments import rollback

    try:
        verdict = judge_guard(store, guard, now)
    except Exception as exc:  # a deleted model: end the guard rather than retry forever
        if store.challengers.end_guard(guard.id, GUARD_FAILED, f"cannot judge: {exc}", now):
            return store.challengers.guard(guard.id)
        return None
    if verdict.state == "broken":
        reason = "; ".join(f"{c} broke ({v:g})" for c, v in verdict.broken.items())
        can_roll_back = guard.previous_version is not None and _still_serves(store, guard)
        if not can_roll_back:
            reason += ("; no earlier version to roll back to" if guard.previous_version is None
                       else "; the alias has moved since, so it was left alone")  # fmt: skip
        status = GUARD_ROLLED_BACK if can_roll_back else GUARD_BROKEN
        if not store.challengers.end_guard(guard.id, status, reason, now):
            return None  # another judge claimed it
        if can_roll_back:
            try:
                rollback(guard.model, guard.alias, to_version=guard.previous_version,
                         store=store)  # fmt: skip
            except Exception as exc:
                log.exception("guard %s: rollback failed", guard.id)
                reason += f"; the rollback failed: {exc}"
        notify_guard(guard.notify, {
            "event": "guard_broken", "target": f"{guard.model}@{guard.alias}",
            "version": guard.version,
            "rolled_back_to": guard.previous_version if can_roll_back else None,
            "guard": guard.id, "broken": verdict.broken, "reason": reason,
        })  # fmt: skip
        log.warning("guard %s on %s@%s: %s", guard.id, guard.model, guard.alias, reason)
        return store.challengers.guard(guard.id)
    if now >= guard.until:
        if store.challengers.end_guard(guard.id, GUARD_PASSED, "held for its period", now):
            return store.challengers.guard(guard.id)
        return None
    store.challengers.checked(guard.id, now)
    return None
