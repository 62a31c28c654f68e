"""One execution of an automation: a parent run, one child run per step, in order.

The parent run (source ``automation``) carries the trigger event's values as params and the
``mlops.automation*`` tags; each step is a child run named ``N. kind`` (``run_notebook``'s child
is the papermill run itself), so an execution shows in ``mlops runs``, the panel's runs view and
``mlops automation history`` alike. A failed step ends its run ``failed`` with the reason, the
chain stops, and the parent ends ``failed`` with ``Step N (kind) failed: reason``.

:func:`execute_claim` runs one claimed attempt and records its end (retries per the
automation's policy); the scheduler calls it on a worker thread, ``mlops automation run`` in
the foreground.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..names import FAILED, FINISHED, SOURCE_AUTOMATION, Tag
from ..store.automation_events import attempt_tag
from .spec import MODEL, RUN_NOTEBOOK
from .steps import STEPS, StepContext, StepFailed, _RunFailed, run_notebook_step

if TYPE_CHECKING:
    from ..store import Store
    from ..store.automation_events import EventClaim, EventEnd

log = logging.getLogger("kernel_magics.automations")


@dataclass
class StepOutcome:
    """How one step went.

    Attributes
    ----------
    index : int
        Position in the chain, from 1.
    kind : str
        The step kind.
    run_id : str or None
        The step's child run.
    status : str
        ``finished``, ``failed`` or ``killed``.
    result : str or None
        What it did (``tests of churn/4 passed: ...``), or why it failed.
    retry : bool
        For a failed step: whether another attempt could go differently.
    """

    index: int
    kind: str
    run_id: str | None
    status: str
    result: str | None
    retry: bool = True


@dataclass
class Execution:
    """An attempt at one trigger event, as it ended.

    Attributes
    ----------
    automation : str
        Its automation.
    event_key : str
        The trigger event (``dataset:churn-train@4``...).
    attempt : int
        From 1.
    run_id : str
        The parent run.
    status : str
        ``finished`` when every step finished, else the failed step's status.
    error : str or None
        ``Step N (kind) failed: reason``.
    steps : list of StepOutcome
        The steps that ran, in order (those after a failed one did not run).
    event_status : str or None
        What the event became (``retrying`` or the final status; None if the lease was lost).
    """

    automation: str
    event_key: str
    attempt: int
    run_id: str
    status: str
    error: str | None = None
    steps: list[StepOutcome] = field(default_factory=list)
    event_status: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every step finished."""
        return self.status == FINISHED

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


def _params(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "automation" and v is not None}


def _step_params(options: dict[str, Any]) -> dict[str, Any]:
    import json

    return {k: v if isinstance(v, (str, int, float, bool)) else json.dumps(v, default=str)
            for k, v in options.items()}  # fmt: skip


def execute(
    store: Store, claim: EventClaim, now: Callable[[], float] = time.time
) -> tuple[Execution, bool]:
    """Run every step of a claimed attempt; return the execution and whether to allow a retry.

    ``now`` is the claimer's clock (guard periods of the steps run on it).
    """
    record = claim.automation
    spec = record.spec
    # The parent lives where the notebook's run goes, so the run and its parent list together.
    experiments = [s.options.get("experiment") for s in spec.steps if s.kind == RUN_NOTEBOOK]
    experiment = next((e for e in experiments if e), None)
    experiment_id = store.experiments.get_or_create(experiment)
    tag = attempt_tag(claim.event_id, claim.attempt)
    parent = store.runs.create(
        experiment_id, name=f"automation {record.name}", source=SOURCE_AUTOMATION,
        params=_params(claim.payload),
        tags={Tag.AUTOMATION: record.name, Tag.AUTOMATION_EVENT: claim.event_key,
              Tag.AUTOMATION_ATTEMPT: tag, Tag.TRIGGER: spec.trigger.describe()},
    )  # fmt: skip
    store.automations.set_run(claim, parent)
    writer = store.writer
    writer.add_run(parent, environment=False)  # heartbeats: a live execution never looks dead
    ctx = StepContext(store, record, dict(claim.payload), parent, tag, now=now)
    if spec.timeout:
        ctx.deadline = time.monotonic() + spec.timeout
    if spec.trigger.kind == MODEL:
        ctx.version = (claim.payload["model"], int(claim.payload["model_version"]))
    execution = Execution(record.name, claim.event_key, claim.attempt, parent, FINISHED)
    retry = True
    try:
        for index, step in enumerate(spec.steps, 1):
            outcome = _run_step(ctx, experiment_id, index, step)
            execution.steps.append(outcome)
            if outcome.status != FINISHED:
                execution.status = outcome.status
                execution.error = f"Step {index} ({step.kind}) failed: {outcome.result}"
                retry = outcome.retry
                break
            ctx.results.append(f"{index}. {step.kind}: {outcome.result}")
    except BaseException:
        writer.remove_run(parent)
        store.runs.finish(parent, FAILED, traceback.format_exc(limit=5))
        raise
    writer.remove_run(parent)
    writer.flush()
    store.runs.set_tags(parent, {Tag.AUTOMATION_RESULT: execution.error or "; ".join(ctx.results)})
    store.runs.finish(parent, execution.status, execution.error)
    return execution, retry


def _run_step(ctx: StepContext, experiment_id: int, index: int, step: Any) -> StepOutcome:
    store = ctx.store
    label = f"{index}. {step.kind}"
    if step.kind == RUN_NOTEBOOK:
        try:
            run_id, result = run_notebook_step(ctx, step, label)
        except _RunFailed as failed:
            return _failed(index, step.kind, failed.run_id, failed)
        except StepFailed as failed:  # it did not start: record the step as its own run
            run_id = _child(ctx, experiment_id, label, step)
            store.runs.finish(run_id, failed.status, failed.reason)
            return _failed(index, step.kind, run_id, failed)
        store.runs.set_tags(run_id, {Tag.AUTOMATION_RESULT: result})
        return StepOutcome(index, step.kind, run_id, FINISHED, result)
    run_id = _child(ctx, experiment_id, label, step)
    store.writer.add_run(run_id, environment=False)
    try:
        result = STEPS[step.kind](ctx, step)
    except StepFailed as failed:
        store.writer.remove_run(run_id)
        store.runs.finish(run_id, failed.status, failed.reason)
        return _failed(index, step.kind, run_id, failed)
    except Exception as exc:  # a bug or an environment problem: the step fails, visibly
        log.exception("automation %s: step %s raised", ctx.automation.name, label)
        store.writer.remove_run(run_id)
        reason = f"{type(exc).__name__}: {exc}"
        store.runs.finish(run_id, FAILED, reason)
        return StepOutcome(index, step.kind, run_id, FAILED, reason)
    store.writer.remove_run(run_id)
    store.runs.set_tags(run_id, {Tag.AUTOMATION_RESULT: result})
    store.runs.finish(run_id, FINISHED)
    return StepOutcome(index, step.kind, run_id, FINISHED, result)


def _child(ctx: StepContext, experiment_id: int, label: str, step: Any) -> str:
    return ctx.store.runs.create(
        experiment_id, name=label, source=SOURCE_AUTOMATION, parent_run_id=ctx.parent_run_id,
        params=_step_params(step.options), tags=ctx.run_tags(step.kind),
    )  # fmt: skip


def _failed(index: int, kind: str, run_id: str | None, failed: StepFailed) -> StepOutcome:
    return StepOutcome(index, kind, run_id, failed.status, failed.reason, failed.retry)


def execute_claim(store: Store, claim: EventClaim, owner: str, now) -> Execution | None:
    """Run a claimed attempt here and now, and record how it ended.

    Parameters
    ----------
    store : Store
        The store the event was claimed in.
    claim : EventClaim
        The attempt (its lease must be renewed meanwhile by the caller).
    owner : str
        The claimer (only its end is written while it still owns the event).
    now : callable
        Returns the current time of the claimer's clock (when the attempt ends).

    Returns
    -------
    Execution or None
        None when the execution could not even start (the end is recorded all the same).
    """
    execution: Execution | None = None
    end: EventEnd | None
    try:
        execution, retry = execute(store, claim, now)
        end = store.automations.complete(
            claim, owner, execution.status, now(), run_id=execution.run_id,
            step=execution.steps[-1].kind if execution.error else None, error=execution.error,
            retry=retry,
        )  # fmt: skip
    except Exception as exc:
        log.exception("automation %s: execution raised", claim.automation.name)
        end = store.automations.complete(claim, owner, FAILED, now(),
                                         error=f"{type(exc).__name__}: {exc}")  # fmt: skip
    if end is None:
        log.warning("automation %s: lost the lease of event %s before it ended",
                    claim.automation.name, claim.event_key)  # fmt: skip
    else:
        log.info("automation %s: %s attempt %d %s -> %s", claim.automation.name,
                 claim.event_key, claim.attempt, end.attempt_status, end.event_status)  # fmt: skip
    if execution is not None:
        execution.event_status = end.event_status if end else None
    return execution
