"""What each step of an automation does, and how its output feeds the next step.

A step reads and updates one :class:`StepContext`: ``run_notebook`` sets ``version`` to the
model version its run registered, which ``test``, ``promote`` and ``deploy_challenger`` then
take (unless a step names its own ``model``); ``deploy_challenger`` sets ``challenger`` to the
``model@alias`` whose servers now run it, which ``promote_challenger`` takes. A step that fails
raises :class:`StepFailed` with the reason a person reads in ``mlops automation history``.

Each step calls the one function that does the job elsewhere (the runner, the model tests, the
promotion gate, the challenger deployments, the notifier) with no logic of its own beyond
choosing the inputs, so an automation does exactly what the same commands typed by hand do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import KernelMagicsError
from ..names import FAILED, KILLED, SOURCE_AUTOMATION, Tag
from .spec import (
    DEPLOY_CHALLENGER,
    NOTIFY,
    PROMOTE,
    PROMOTE_CHALLENGER,
    RUN_NOTEBOOK,
    TEST,
    Step,
    challenger_alias,
    fill_parameters,
)

if TYPE_CHECKING:
    from ..store import Store
    from ..store.automations import AutomationRecord

#: Seconds between two looks at a challenger while its guard period runs.
CHALLENGER_POLL_S = 0.25
#: Seconds between two judgements of a promotion's guard by its step.
GUARD_POLL_S = 0.5


class StepFailed(KernelMagicsError):
    """Raised by a step that did not do its job; the chain stops with ``reason``.

    Parameters
    ----------
    reason : str
        What went wrong, for a person.
    status : str
        The step run's status (``failed``; ``killed`` when the automation's time ran out).
    retry : bool
        Whether another attempt could go differently (a refused gate would not).
    """

    def __init__(self, reason: str, *, status: str = FAILED, retry: bool = True):
        super().__init__(reason)
        self.reason, self.status, self.retry = reason, status, retry


@dataclass
class StepContext:
    """What an execution knows so far, shared by its steps in order.

    Attributes
    ----------
    store : Store
        Where everything is recorded.
    automation : AutomationRecord
        The automation being executed.
    payload : dict
        The trigger event's values (``${...}`` placeholders of notebook parameters).
    parent_run_id : str
        The execution's parent run.
    attempt_tag : str
        The ``mlops.automation.attempt`` value every run of this attempt carries.
    deadline : float or None
        ``time.monotonic()`` by which the execution must end (the automation's timeout).
    now : callable
        The claimer's clock (the scheduler's, injected in tests): a guard's period runs on it.
    version : tuple of (str, int) or None
        The model version the next step works on (the trigger's, or the one a run registered).
    challenger : str or None
        ``model@alias`` whose servers run the challenger this execution deployed.
    """

    store: Store
    automation: AutomationRecord
    payload: dict[str, Any]
    parent_run_id: str
    attempt_tag: str
    deadline: float | None = None
    now: Callable[[], float] = time.time
    version: tuple[str, int] | None = None
    challenger: str | None = None
    results: list[str] = field(default_factory=list)

    @property
    def version_ref(self) -> str | None:
        """``name/version`` of :attr:`version`."""
        return f"{self.version[0]}/{self.version[1]}" if self.version else None

    def remaining(self) -> float | None:
        """Seconds left before the automation's timeout (None without one)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check_time(self, what: str) -> None:
        """Raise :class:`StepFailed` (``killed``) once the timeout has passed."""
        left = self.remaining()
        if left is not None and left <= 0:
            raise StepFailed(
                f"The automation's timeout ({self.automation.spec.timeout:g} s) ran out before "
                f"{what}; raise `timeout` or make the steps faster.",
                status=KILLED,
            )

    def run_tags(self, step: str) -> dict[str, str]:
        """The tags of a step's run."""
        return {Tag.AUTOMATION: self.automation.name, Tag.AUTOMATION_ATTEMPT: self.attempt_tag,
                Tag.AUTOMATION_STEP: step}  # fmt: skip


def _version(ctx: StepContext, step: Step) -> tuple[str, int]:
    """The version a step works on: its own ``model`` option, else the context's."""
    ref = step.options.get("model")
    if ref:
        from ..registry import parse_ref

        try:
            record = ctx.store.models.get_version(parse_ref(ref))
        except KernelMagicsError as exc:
            raise StepFailed(str(exc), retry=False) from None
        return record.name, record.version
    if ctx.version is None:
        raise StepFailed(
            "No model version to work on: the run_notebook step's notebook registered none "
            "(call mlops.log_model(...) in it) and the step names no model.",
            retry=False,
        )
    return ctx.version


# -- the steps -------------------------------------------------------------------------------


def run_notebook_step(ctx: StepContext, step: Step, name: str) -> tuple[str, str]:
    """Execute the notebook as a child run; return ``(run id, result)``.

    The trigger's values fill the ``${...}`` placeholders of its parameters; the model version
    the run registered (of ``model`` when given) becomes the context's version.
    """
    from ..runner import run_notebook

    ctx.check_time("the notebook started")
    options = step.options
    timeout = options.get("timeout")
    left = ctx.remaining()
    if left is not None:
        timeout = min(timeout, left) if timeout else left
    parameters = fill_parameters(options.get("parameters", {}), ctx.payload)
    try:
        result = run_notebook(
            Path(options["notebook"]), parameters, experiment=options.get("experiment"),
            name=name, timeout=timeout, kernel=options.get("kernel"), source=SOURCE_AUTOMATION,
            tags=ctx.run_tags(RUN_NOTEBOOK), parent_run_id=ctx.parent_run_id, store=ctx.store,
        )  # fmt: skip
    except KernelMagicsError as exc:  # bad parameters, missing notebook or kernel: no retry
        raise StepFailed(f"The notebook did not start: {exc}", retry=False) from None
    if not result.ok:
        raise _RunFailed(result.run_id, result.status, result.error or result.status)
    registered = ctx.store.automations.registered_by(result.run_id)
    wanted = options.get("model")
    if wanted:
        registered = [r for r in registered if r[0] == wanted]
        if not registered:
            raise _RunFailed(
                result.run_id, FAILED,
                f"The notebook finished but registered no version of model {wanted!r}; call "
                f"mlops.log_model(model, {wanted!r}, ...) in it.",
            )  # fmt: skip
    if registered:
        ctx.version = registered[-1]
    made = f"; registered {ctx.version_ref}" if registered else ""
    return (
        result.run_id,
        f"{Path(options['notebook']).name} finished in {result.duration:.1f} s{made}",
    )


class _RunFailed(StepFailed):
    """The notebook run itself failed (its run already records the reason)."""

    def __init__(self, run_id: str, status: str, reason: str):
        super().__init__(reason, status=status)
        self.run_id = run_id


def test_step(ctx: StepContext, step: Step) -> str:
    """Run the model tests on the version; fail when a check fails."""
    from ..model_tests import run_model_tests
    from ..model_tests.report import PASS, SKIP

    name, version = _version(ctx, step)
    opts = step.options
    try:
        report = run_model_tests(
            ctx.store, f"{name}/{version}", holdout=opts.get("holdout"),
            conditions=opts.get("conditions", ()), test_file=opts.get("test_file"),
            latency_budget_ms=opts.get("latency_budget_ms"), target=opts.get("target"),
            alias=opts.get("alias"), allow_pickle=opts.get("allow_pickle", False),
            pickle_opt_in="allow_pickle: true in the test step",
        )  # fmt: skip
    except KernelMagicsError as exc:
        raise StepFailed(f"The model tests could not run: {exc}", retry=False) from None
    if not report.passed:
        failed = "; ".join(f"{c.name}: {c.detail or c.measured}" for c in report.failures)
        raise StepFailed(
            f"Model tests of {report.ref} failed ({len(report.failures)} of {len(report.checks)}): "
            f"{failed or 'no check ran'}",
            retry=False,
        )
    counts = report.counts()
    return f"tests of {report.ref} passed: {counts[PASS]} passed, {counts[SKIP]} skipped"


def promote_step(ctx: StepContext, step: Step) -> str:
    """Move the alias through the promotion gate; fail when the gate refuses."""
    from ..promotion import promote

    name, version = _version(ctx, step)
    opts = step.options
    try:
        result = promote(
            name, version, to=opts.get("to", "production"), require=opts.get("require", ()),
            better_than=opts.get("better_than"), metric=opts.get("metric"),
            maximize=opts.get("maximize", True), min_delta=opts.get("min_delta", 0.0),
            deploy=opts.get("deploy", False), store=ctx.store,
        )  # fmt: skip
    except KernelMagicsError as exc:
        raise StepFailed(f"The promotion gate could not run: {exc}", retry=False) from None
    checks = "; ".join(
        f"{c.condition} {'ok' if c.passed else 'FAILED'}{f' ({c.detail})' if c.detail else ''}"
        for c in result.checks
    )
    if not result.passed:
        raise StepFailed(f"The gate refused {name}/{version} for @{result.alias}: {checks}",
                         retry=False)  # fmt: skip
    return f"{name}@{result.alias} -> {name}/{version}" + (f" ({checks})" if checks else "")


def deploy_challenger_step(ctx: StepContext, step: Step) -> str:
    """Run the version as a challenger and watch it for the guard period.

    A challenger this execution started before (shadow, then canary) is stopped first. The
    step waits ``for`` seconds (the servers judge the guards meanwhile) and fails when a guard
    rolled the challenger back.
    """
    from ..names import CHALLENGER_ACTIVE, CHALLENGER_ROLLED_BACK
    from ..serving.challengers import deploy_challenger, stop_challenger

    name, version = _version(ctx, step)
    opts = step.options
    target = opts.get("target") or f"{name}@{challenger_alias(step)}"
    mode = opts.get("mode", "shadow")
    guard_for = opts.get("for", 0.0)
    try:
        if ctx.challenger == target:
            stop_challenger(target, reason=f"automation {ctx.automation.name}: next stage {mode}",
                            store=ctx.store)  # fmt: skip
        record = deploy_challenger(
            target, f"{name}/{version}", mode=mode, share=opts.get("share", 0.1),
            guards=opts.get("guards", ()), guard_for=guard_for or "15m",
            notify=opts.get("notify", ()), allow_pickle=opts.get("allow_pickle", False),
            store=ctx.store,
        )  # fmt: skip
    except KernelMagicsError as exc:
        raise StepFailed(f"The challenger did not start: {exc}") from None
    ctx.challenger = target
    share = f" {record.share:.0%}" if mode == "canary" else ""
    label = f"{mode}{share} {name}/{version} in {target}"
    end = time.monotonic() + guard_for
    while time.monotonic() < end:
        left = ctx.remaining()
        if left is not None and left <= 0:
            ctx.check_time(f"the {mode} guard period of {label} ended")
        current = ctx.store.challengers.get(record.id)
        if current.status == CHALLENGER_ROLLED_BACK:
            raise StepFailed(f"A guard rolled back {label}: {current.reason}", retry=False)
        if current.status not in CHALLENGER_ACTIVE:
            raise StepFailed(f"The challenger {label} ended {current.status}: {current.reason}")
        time.sleep(min(CHALLENGER_POLL_S, max(end - time.monotonic(), 0.0)))
    if guard_for:
        current = ctx.store.challengers.get(record.id)
        if current.status == CHALLENGER_ROLLED_BACK:
            raise StepFailed(f"A guard rolled back {label}: {current.reason}", retry=False)
        return f"{label}: guards held for {guard_for:g} s"
    return f"{label}: started"


def promote_challenger_step(ctx: StepContext, step: Step) -> str:
    """Point the alias at the challenger and redeploy; with guards, wait for their verdict.

    The step ends when the guard does: ``finished`` when it held for its period, ``failed``
    (not retried) when it rolled the alias back, so the execution's run and ``mlops automation
    history`` say whether the promotion held. Meanwhile the step judges its own guard with the
    scheduler's function (each ending is claimed in the store: only one judge rolls back).
    """
    from ..serving.challengers import promote_challenger

    target = step.options.get("target") or ctx.challenger
    opts = step.options
    if not target:
        raise StepFailed("No challenger to promote: run deploy_challenger first, or give target.")
    try:
        done = promote_challenger(target, ctx.store, guards=opts.get("guards", ()),
                                  guard_for=opts.get("for", "15m"),
                                  notify=opts.get("notify", ()), now=ctx.now())  # fmt: skip
    except KernelMagicsError as exc:
        raise StepFailed(f"The challenger could not be promoted: {exc}") from None
    ctx.challenger = None
    record = done.challenger
    ctx.version = (record.challenger_model, record.challenger_version)
    moved = f"{record.model}@{record.alias} -> {ctx.version_ref}"
    if done.guard is None:
        return moved
    guard = _await_guard(ctx, done.guard, moved)
    period = guard.until - guard.started_at
    return f"{moved}; guard {' and '.join(guard.conditions)} held for {period:g} s"


def _await_guard(ctx: StepContext, guard: Any, moved: str) -> Any:
    """Judge ``guard`` until it ends; return it when it passed, raise when it did not."""
    from ..names import GUARD_BROKEN, GUARD_PASSED, GUARD_ROLLED_BACK, GUARD_WATCHING
    from ..serving.guards import evaluate_guard

    current = guard
    while True:
        current = evaluate_guard(ctx.store, current, ctx.now()) or ctx.store.challengers.guard(
            guard.id
        )
        if current.status != GUARD_WATCHING:
            break
        ctx.check_time(f"guard {guard.id} on {moved} ended (the scheduler keeps judging it)")
        time.sleep(GUARD_POLL_S)
    if current.status == GUARD_PASSED:
        return current
    # The verdict first: `mlops automation history` shows the start of the reason.
    if current.status == GUARD_ROLLED_BACK:
        verdict = f"rolled back to {current.model}/{current.previous_version}"
    elif current.status == GUARD_BROKEN:
        verdict = "the guard broke (not rolled back)"
    else:
        verdict = "the guard could not be judged"
    raise StepFailed(f"{verdict}, guard {current.reason} ({moved})", retry=False)


def notify_step(ctx: StepContext, step: Step) -> str:
    """Send what the execution did to a command and/or webhook."""
    from ..scheduler.notify import deliver

    opts = step.options
    message = {
        "event": "automation", "automation": ctx.automation.name,
        "trigger": ctx.payload.get("event"), "run_id": ctx.parent_run_id,
        "model": ctx.version_ref, "message": opts.get("message"), "steps": list(ctx.results),
    }  # fmt: skip
    problems = deliver(message, command=opts.get("command"), webhook=opts.get("webhook"))
    if problems:
        raise StepFailed("; ".join(problems))
    targets = [t for t in ("command", "webhook") if opts.get(t)]
    return f"notified ({', '.join(targets)})"


#: The steps that run inside a child run the engine creates (``run_notebook``'s run is its own).
STEPS: dict[str, Callable[[StepContext, Step], str]] = {
    TEST: test_step,
    PROMOTE: promote_step,
    DEPLOY_CHALLENGER: deploy_challenger_step,
    PROMOTE_CHALLENGER: promote_challenger_step,
    NOTIFY: notify_step,
}
