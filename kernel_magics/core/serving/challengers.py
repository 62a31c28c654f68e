"""Challenger deployments: a second model version next to the champion, in shadow or canary.

``deploy_challenger("churn@production", "churn/4", mode="shadow")`` makes the servers of
``churn@production`` also run ``churn/4``:

* **shadow** - on every request, off the response path (a bounded queue and a worker thread;
  requests are dropped and counted when it is full); the client gets the champion's answer;
  agreement, latency and errors of both are recorded;
* **canary** - a ``share`` of the request ids (sticky: a hash of ``X-Request-Id``) is answered
  by the challenger on the same port; the ``X-Model-Version`` response header says which version
  answered. A request the challenger fails on is answered by the champion (and counted).

How a running server learns about its challenger: starting one is a zero-downtime hand-over
(:func:`~.deployments.redeploy_alias`'s replacement: the new server loads both models and passes
its health check before the old one drains). Stopping, a tripped guard and promotion change the
challenger's row; the server reads that status every second and stops routing to it, and the
server that trips a guard stops at once, before writing anything.

Guards (``errors.rate < 0.01``, ``latency.p99_ms < 100``) are judged by the server itself, on
its own counts, every second during ``guard_for``; one that breaks stops the challenger
(``rolled_back``), notifies and is recorded. Guards on full deploys and promotions are in
:mod:`.guards`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ...errors import (
    ChallengerNotFoundError,
    ConflictError,
    DeploymentNotFoundError,
    InvalidGuardError,
    ValidationError,
)
from ..names import (
    CHALLENGER_CANARY,
    CHALLENGER_FAILED,
    CHALLENGER_MODES,
    CHALLENGER_PROMOTED,
    CHALLENGER_SHADOW,
    CHALLENGER_STOPPED,
)
from ..store import Store, open_store
from ..store.challengers import ChallengerRecord, ChallengerStats, DeploymentGuard
from ..store.deployments import DeploymentRecord
from .local import BaseServingBackend

__all__ = [
    "CHALLENGER_METRICS",
    "ChallengerRecord",
    "ChallengerStatus",
    "PromotedChallenger",
    "challenger_status",
    "deploy_challenger",
    "parse_guards",
    "promote_challenger",
    "stop_challenger",
]

#: What a model server can judge a challenger on by itself (accuracy needs labels that arrive
#: later: guard a promotion with it instead, see :mod:`.guards`).
CHALLENGER_METRICS = ("requests", "errors.rate", "latency.p50_ms", "latency.p99_ms")
#: How long :func:`stop_challenger` and :func:`promote_challenger` wait for the servers to
#: report that they stopped routing to the challenger (they poll its status every second).
STOP_WAIT_S = 5.0


def parse_guards(guards: Any, metrics: tuple[str, ...] | None = None) -> list[str]:
    """Check guard conditions (``"errors.rate < 0.01"``); return them normalized.

    A guard is what must *keep* holding; it breaks when its condition is false. The grammar is
    the alert rules' (:func:`~kernel_magics.core.monitoring.alerts.parse_condition`).

    Parameters
    ----------
    guards : str or iterable of str
    metrics : tuple of str, optional
        The metrics allowed (every monitoring metric when omitted).

    Raises
    ------
    InvalidGuardError
        For a malformed condition or a metric outside ``metrics``.
    """
    from ...errors import InvalidAlertError
    from ..monitoring.alerts import parse_condition

    items = [guards] if isinstance(guards, str) else list(guards or ())
    out = []
    for text in items:
        try:
            condition = parse_condition(str(text))
        except InvalidAlertError as exc:
            raise InvalidGuardError(f"Bad --guard: {exc}") from None
        if metrics is not None and condition.metric not in metrics:
            raise InvalidGuardError(
                f"A challenger's guard can use {', '.join(metrics)} (its server counts them); "
                f"{condition.metric!r} needs the monitoring windows: put "
                f"'--guard \"{condition}\"' on `mlops promote` or `mlops deploy` instead."
            )
        out.append(str(condition))
    return out


def parse_guard_for(text: str | float) -> float:
    """Seconds of a guard period (``15m``, ``1h``, a number of seconds).

    Raises
    ------
    InvalidGuardError
        When it is not a positive duration of at most 30 days.
    """
    from ..monitoring.windows import parse_duration

    try:
        seconds = parse_duration(text)
    except ValidationError as exc:
        raise InvalidGuardError(f"Bad --for: {exc}") from None
    if seconds > 30 * 86400:
        raise InvalidGuardError(f"--for {text!r} is over 30 days; guard for e.g. 15m or 1h.")
    return seconds


def parse_notify(channels: Any) -> list[str]:
    """Check notification channels (``command:...``, ``webhook:...``), as alert rules take.

    Raises
    ------
    InvalidGuardError
        For a channel of another form.
    """
    from ...errors import InvalidAlertError
    from ..monitoring.alerts import parse_channel

    items = [channels] if isinstance(channels, str) else list(channels or ())
    try:
        return [parse_channel(str(c)) for c in items]
    except InvalidAlertError as exc:
        raise InvalidGuardError(str(exc)) from None


def _check_mode(mode: str, share: float) -> float:
    if mode not in CHALLENGER_MODES:
        raise InvalidGuardError(
            f"Unknown challenger mode {mode!r}: use {' or '.join(CHALLENGER_MODES)}."
        )
    try:
        share = float(share)
    except (TypeError, ValueError):
        raise InvalidGuardError(f"The canary share {share!r} is not a number.") from None
    if mode == CHALLENGER_CANARY and not 0.0 < share < 1.0:
        raise InvalidGuardError(
            f"The canary share must be between 0 and 1 (got {share:g}); e.g. --share 0.1 "
            "sends a tenth of the request ids to the challenger."
        )
    return share if mode == CHALLENGER_CANARY else 0.0


def _target(target: str | int, store: Store) -> tuple[str, str, list[DeploymentRecord]]:
    """``(model, alias, live deployments)`` of ``churn@production`` or a deployment id."""
    from ..registry import parse_ref

    text = str(target)
    if text.isdigit():
        dep = store.deployments.get(int(text))
        if not dep.alias:
            raise ValidationError(
                f"Deployment {dep.id} serves {dep.ref}, not an alias: a challenger runs next "
                f"to an alias's champion; deploy e.g. {dep.model}@production first."
            )
        model, alias = dep.model, dep.alias
    else:
        parsed = parse_ref(text)
        if parsed.alias is None:
            raise ValidationError(
                f"Name the deployment by alias, e.g. {parsed.name}@production (got {text!r})."
            )
        model, alias = parsed.name, parsed.alias
    live = store.deployments.find(model, alias, live_only=True)
    return model, alias, live


def _check_compatible(champion: Any, challenger: Any) -> None:
    """Refuse a challenger that cannot take the champion's validated rows."""
    ours = (champion.signature or {}).get("inputs")
    theirs = (challenger.signature or {}).get("inputs")
    if theirs is None:
        raise ValidationError(
            f"{challenger.ref} has no signature; log it again with input_example=X."
        )
    if ours != theirs:
        raise ValidationError(
            f"{challenger.ref} takes other inputs than {champion.ref} (its signature's columns "
            "or types differ), so it cannot score the same requests; log it with the "
            "champion's columns, or deploy it on its own port."
        )


def deploy_challenger(
    target: str | int,
    version_ref: str,
    *,
    mode: str = CHALLENGER_SHADOW,
    share: float = 0.1,
    guards: Any = (),
    guard_for: str | float = "15m",
    notify: Any = (),
    allow_pickle: bool = False,
    store: Store | None = None,
    backend: type[BaseServingBackend] | None = None,
) -> ChallengerRecord:
    """Run ``version_ref`` as a challenger in the servers of ``target`` (``churn@production``).

    The servers are replaced without downtime by ones that load both models; the call returns
    once they answer their health check (with the challenger loaded and smoke-tested).

    Parameters
    ----------
    target : str or int
        ``model@alias`` whose running deployment gets the challenger, or a deployment id.
    version_ref : str
        The challenger: ``churn/4``, ``churn@challenger``.
    mode : str
        ``shadow`` (every request, off the response path, answered by the champion) or
        ``canary`` (``share`` of the request ids answered by the challenger).
    share : float
        Canary share, between 0 and 1 (ignored in shadow mode).
    guards : str or iterable of str
        Conditions that must keep holding on the challenger's counts, e.g.
        ``"errors.rate < 0.01"``, ``"latency.p99_ms < 100"`` (:data:`CHALLENGER_METRICS`).
    guard_for : str or float
        How long the guards are judged (``15m``, ``1h`` or seconds).
    notify : str or iterable of str
        Channels told when a guard breaks (``command:...``, ``webhook:https://...``).
    allow_pickle : bool
        Needed for a challenger stored with pickle/cloudpickle.
    store : Store, optional
    backend : BaseServingBackend subclass, optional

    Returns
    -------
    ChallengerRecord
        The running challenger.

    Raises
    ------
    InvalidGuardError
        For a bad mode, share, guard, period or channel (before anything starts).
    DeploymentNotFoundError
        When ``target`` has no running deployment.
    ConflictError
        When ``target`` already has an active challenger, or ``version_ref`` is its champion.
    ValidationError
        When the challenger's inputs differ from the champion's.
    DeploymentError
        When the new server does not become healthy (the old one keeps serving).
    """
    from ..registry import parse_ref, registry
    from .deployments import _replace, get_backend

    share = _check_mode(mode, share)
    guard_list = parse_guards(guards, CHALLENGER_METRICS)
    guard_for_s = parse_guard_for(guard_for)
    channels = parse_notify(notify)
    store = store or open_store()
    chosen = get_backend(store, backend)
    store.deployments.reap()
    model, alias, live = _target(target, store)
    if not live:
        raise DeploymentNotFoundError(
            f"No running deployment of {model}@{alias}: deploy the champion first "
            f"(`mlops deploy {model}@{alias}`), then add the challenger."
        )
    models = registry(store)
    challenger = models.get_version(parse_ref(version_ref))
    champion = models.get_version(parse_ref(f"{live[0].model}/{live[0].version}"))
    if challenger.id == champion.id:
        raise ConflictError(
            f"{challenger.ref} is what {model}@{alias} serves already; a challenger is another "
            "version."
        )
    _check_compatible(champion, challenger)
    current = store.challengers.find(model, alias, active_only=True)
    if current:
        raise ConflictError(
            f"{model}@{alias} already runs challenger {current[0].challenger_ref} "
            f"({current[0].mode}); stop it first (`mlops challenger stop {model}@{alias}`)."
        )
    challenger_id = store.challengers.create(
        model=model, alias=alias, champion_version_id=champion.id,
        challenger_version_id=challenger.id, mode=mode, share=share, guards=guard_list,
        guard_for_s=guard_for_s, notify=channels, allow_pickle=bool(allow_pickle),
    )  # fmt: skip
    try:
        started = [
            _replace(chosen, dep, champion, {"challenger_id": challenger_id}) for dep in live
        ]
    except Exception as exc:
        store.challengers.finish(challenger_id, CHALLENGER_FAILED, f"did not start: {exc}")
        raise
    store.challengers.started(challenger_id, started[-1].id)
    return store.challengers.get(challenger_id)


def _active(target: str | int, store: Store) -> ChallengerRecord:
    model, alias, _ = _target(target, store)
    found = store.challengers.find(model, alias, active_only=True)
    if not found:
        raise ChallengerNotFoundError(
            f"{model}@{alias} runs no challenger; start one with "
            f"`mlops challenger start {model}@{alias} {model}/VERSION`."
        )
    return found[0]


def _wait_stopped(store: Store, challenger_id: int, deployments: list[DeploymentRecord]) -> None:
    """Wait (at most :data:`STOP_WAIT_S`) until no server reports routing to the challenger."""
    from .local import http_json

    deadline = time.monotonic() + STOP_WAIT_S
    pending = list(deployments)
    while pending and time.monotonic() < deadline:
        pending = [
            d
            for d in pending
            if ((http_json(f"{d.url}/health", timeout=1.0) or {}).get("challenger") or {}).get("id")
            == challenger_id
        ]
        if pending:
            time.sleep(0.1)


def stop_challenger(
    target: str | int, reason: str = "stopped by request", store: Store | None = None
) -> ChallengerRecord:
    """Stop routing to ``target``'s challenger; the champion answers everything again.

    Returns once the servers report (on ``/health``) that they stopped, or after a few seconds.

    Raises
    ------
    ChallengerNotFoundError
        When ``target`` runs no challenger.
    """
    store = store or open_store()
    record = _active(target, store)
    store.challengers.finish(record.id, CHALLENGER_STOPPED, reason)
    live = store.deployments.find(record.model, record.alias, live_only=True)
    _wait_stopped(store, record.id, live)
    return store.challengers.get(record.id)


@dataclass
class PromotedChallenger:
    """What :func:`promote_challenger` did: the alias move and the replaced deployments."""

    challenger: ChallengerRecord
    move: Any
    deployments: list[DeploymentRecord] = field(default_factory=list)
    guard: DeploymentGuard | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {"challenger": self.challenger.to_dict(), "move": self.move.to_dict(),
                "deployments": [d.to_dict() for d in self.deployments],
                "guard": self.guard.to_dict() if self.guard else None}  # fmt: skip


def promote_challenger(
    target: str | int,
    store: Store | None = None,
    backend: type[BaseServingBackend] | None = None,
    *,
    guards: Any = (),
    guard_for: str | float = "15m",
    notify: Any = (),
    now: float | None = None,
) -> PromotedChallenger:
    """Point ``target``'s alias at its challenger's version and hand over without downtime.

    The challenger stops being routed to first (the champion answers meanwhile), the alias
    moves, and every server of the alias is replaced by one serving the new version. With
    ``guards``, the promotion is guarded like ``mlops promote --guard`` (:mod:`.guards`); the
    guard's period starts at ``now`` (the caller's clock; the time of day when omitted).

    Raises
    ------
    ChallengerNotFoundError
        When ``target`` runs no challenger.
    ValidationError
        When the challenger is another model than the alias's (promote it by hand).
    """
    from ..registry import registry
    from .deployments import redeploy_alias
    from .guards import guard_deployment

    store = store or open_store()
    record = _active(target, store)
    guard_list = parse_guards(guards)
    guard_for_s = parse_guard_for(guard_for)
    channels = parse_notify(notify)
    if record.challenger_model != record.model:
        raise ValidationError(
            f"The challenger {record.challenger_ref} is another model than {record.target}; an "
            "alias points at versions of its own model."
        )
    previous = record.champion_version
    store.challengers.finish(record.id, CHALLENGER_PROMOTED, f"promoted to {record.target}")
    move = registry(store).set_alias(
        record.model, record.alias, record.challenger_version,
        reason=f"challenger {record.id} promoted",
    )  # fmt: skip
    # The challenger's own opt-in goes with it: the champion's servers may not have had one.
    options = {"allow_pickle": True} if record.allow_pickle else None
    deployments = redeploy_alias(record.model, record.alias, store=store, backend=backend,
                                 options=options)  # fmt: skip
    guard = None
    if guard_list:
        guard = guard_deployment(
            record.model, record.alias, record.challenger_version, previous, guard_list,
            guard_for_s, channels, store=store, now=now,
        )  # fmt: skip
    return PromotedChallenger(store.challengers.get(record.id), move, deployments, guard)


@dataclass
class ChallengerStatus:
    """A challenger with its counts, as ``mlops challenger status`` shows them."""

    challenger: ChallengerRecord
    stats: ChallengerStats

    @property
    def agreement(self) -> float | None:
        """Share of the compared rows with the same prediction (None before any)."""
        s = self.stats
        return s.agreed_rows / s.compared_rows if s.compared_rows else None

    @property
    def mean_abs_diff(self) -> float | None:
        """Mean absolute difference of the compared predictions (numeric predictions)."""
        s = self.stats
        return s.abs_diff_sum / s.compared_rows if s.compared_rows else None

    def figures(self) -> dict[str, dict[str, float | None]]:
        """Requests, error rate and latency quantiles of the champion and the challenger."""
        from ..monitoring.counts import latency_quantile

        s = self.stats
        out = {}
        for role in ("champion", "challenger"):
            requests, errors = getattr(s, f"{role}_requests"), getattr(s, f"{role}_errors")
            latency = getattr(s, f"{role}_latency")
            out[role] = {
                "requests": float(requests),
                "errors.rate": errors / requests if requests else None,
                "latency.p50_ms": latency_quantile(latency, 0.5) if latency else None,
                "latency.p99_ms": latency_quantile(latency, 0.99) if latency else None,
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {
            **self.challenger.to_dict(),
            "figures": self.figures(),
            "agreement": self.agreement,
            "mean_abs_diff": self.mean_abs_diff,
            "compared_rows": self.stats.compared_rows,
            "dropped": self.stats.dropped,
        }


def challenger_status(target: str | int, store: Store | None = None) -> ChallengerStatus:
    """The active challenger of ``target`` (else its latest one) with its counts.

    ``target`` is ``churn@production``, a deployment id, or ``#N`` for challenger ``N``.

    Raises
    ------
    ChallengerNotFoundError
        When ``target`` never had a challenger.
    """
    store = store or open_store()
    text = str(target)
    if text.startswith("#") and text[1:].isdigit():
        record = store.challengers.get(int(text[1:]))
    else:
        model, alias, _ = _target(text, store)
        found = store.challengers.find(model, alias)
        if not found:
            raise ChallengerNotFoundError(
                f"{model}@{alias} never had a challenger; start one with "
                f"`mlops challenger start {model}@{alias} {model}/VERSION`."
            )
        record = next((c for c in found if c.active), found[0])
    return ChallengerStatus(record, store.challengers.stats(record.id))
