"""What an automation is: a trigger, steps in order, and how failures are retried.

:class:`AutomationSpec` is the one typed form of an automation. The CLI builds it from options,
``mlops.yaml`` (GitOps) from a mapping with :meth:`AutomationSpec.from_dict`, and the store
keeps :meth:`AutomationSpec.to_dict`. The mapping form, as written in ``mlops.yaml``::

    name: retrain-churn
    trigger: {dataset: churn-train}          # or {cron: "0 3 * * *", timezone: UTC},
                                             # {alert: churn-drift}, {model: churn}, manual
    steps:
      - run_notebook: {notebook: templates/train.ipynb,
                       parameters: {model_name: churn, data: "${dataset_ref}"}}
      - test: {}                             # the version the run registered
      - promote: {to: candidate, better_than: production, metric: accuracy}
      - deploy_challenger: {mode: canary, share: 0.2, guards: ["errors.rate < 0.01"], for: 15m}
      - promote_challenger: {}
      - notify: {webhook: "https://hooks.example.com/mlops"}
    retries: 1
    retry_delay: 60
    timeout: 3600
    enabled: true

Validation is syntactic and complete: every problem names the field and the fix, before
anything is stored. Whether the notebook, the alert rule or the model exist is checked when the
automation is added (:mod:`.api`), not here, so a file can be read without a store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from string import Template
from typing import Any, Final

from ...errors import InvalidAutomationError, ValidationError

# -- trigger kinds ---------------------------------------------------------------------------
CRON: Final = "cron"
ALERT: Final = "alert"
DATASET: Final = "dataset"
MODEL: Final = "model"
MANUAL: Final = "manual"
#: What can start an automation.
TRIGGER_KINDS: Final = (CRON, ALERT, DATASET, MODEL, MANUAL)

# -- step kinds ------------------------------------------------------------------------------
RUN_NOTEBOOK: Final = "run_notebook"
TEST: Final = "test"
PROMOTE: Final = "promote"
DEPLOY_CHALLENGER: Final = "deploy_challenger"
PROMOTE_CHALLENGER: Final = "promote_challenger"
NOTIFY: Final = "notify"
#: What an automation can do, in the order a full pipeline usually has them.
STEP_KINDS: Final = (RUN_NOTEBOOK, TEST, PROMOTE, DEPLOY_CHALLENGER, PROMOTE_CHALLENGER, NOTIFY)

#: The values a trigger event offers to ``${...}`` placeholders in notebook parameters.
TRIGGER_VALUES: Final = {
    CRON: ("slot", "slot_time"),
    ALERT: ("alert", "incident", "model_ref"),
    DATASET: ("dataset", "dataset_version", "dataset_ref"),
    MODEL: ("model", "model_version", "model_ref"),
    MANUAL: (),
}
#: Offered by every trigger.
COMMON_VALUES: Final = ("automation", "event")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
CHALLENGER_MODES: Final = ("shadow", "canary")
_EXAMPLE = "e.g. {dataset: churn-train}"


def _fail(where: str, problem: str, fix: str) -> InvalidAutomationError:
    return InvalidAutomationError(f"{where}: {problem}. {fix}")


def check_name(name: Any, where: str = "name") -> str:
    """Return a valid automation (or rule, dataset, model) name, or raise naming ``where``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _fail(
            where, f"{name!r} is not a name",
            "Use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )  # fmt: skip
    return name


# -- triggers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """What starts an automation.

    Attributes
    ----------
    kind : str
        One of :data:`TRIGGER_KINDS`.
    target : str or None
        The cron expression (``cron``), the alert rule (``alert``), the dataset (``dataset``)
        or the model (``model``) watched; None for ``manual``.
    timezone : str or None
        IANA timezone whose wall clock a cron expression reads (the machine's when None).
    """

    kind: str
    target: str | None = None
    timezone: str | None = None

    @classmethod
    def from_value(cls, value: Any) -> Trigger:
        """Read ``{cron: EXPR, timezone: TZ}``, ``{alert|dataset|model: NAME}`` or ``manual``."""
        if value == MANUAL or (isinstance(value, Mapping) and dict(value) == {MANUAL: True}):
            return cls(MANUAL)
        if not isinstance(value, Mapping):
            raise _fail(
                "trigger", f"{value!r} is not a trigger",
                f"Give one of {', '.join(TRIGGER_KINDS)} as a mapping, {_EXAMPLE}, or 'manual'.",
            )  # fmt: skip
        keys = [k for k in value if k != "timezone"]
        if len(keys) != 1 or keys[0] not in TRIGGER_KINDS:
            raise _fail(
                "trigger", f"{sorted(map(str, value))} does not name one trigger",
                f"Give exactly one of {', '.join(TRIGGER_KINDS)}, {_EXAMPLE}.",
            )  # fmt: skip
        kind = str(keys[0])
        target = value[kind]
        timezone = value.get("timezone")
        if timezone is not None and kind != CRON:
            raise _fail("trigger.timezone", "only a cron trigger has a timezone",
                        "Remove timezone, or use a cron trigger.")  # fmt: skip
        if kind == MANUAL:
            raise _fail("trigger.manual", f"{target!r} is not true", "Write `trigger: manual`.")
        if kind == CRON:
            from ..scheduler.cron import validate_cron, validate_timezone

            try:
                target = validate_cron(target)
                if timezone is not None:
                    timezone = validate_timezone(timezone).key
            except ValidationError as exc:
                raise InvalidAutomationError(f"trigger.{kind}: {exc}") from None
            return cls(CRON, target, timezone)
        return cls(kind, check_name(target, f"trigger.{kind}"))

    def to_value(self) -> Any:
        """The mapping form (``manual`` for a manual trigger)."""
        if self.kind == MANUAL:
            return MANUAL
        out: dict[str, Any] = {self.kind: self.target}
        if self.timezone is not None:
            out["timezone"] = self.timezone
        return out

    def describe(self) -> str:
        """One line for a person: ``dataset churn-train``, ``cron 0 3 * * * (UTC)``."""
        if self.kind == MANUAL:
            return MANUAL
        zone = f" ({self.timezone})" if self.timezone else ""
        return f"{self.kind} {self.target}{zone}"


# -- steps -----------------------------------------------------------------------------------


def _str(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{value!r} is not a non-empty string", "Give a string.")
    return value.strip()


def _number(where: str, value: Any, minimum: float, maximum: float | None = None) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
        raise _fail(where, f"{value!r} is not a number {bound}", f"Give a number {bound}.")
    return float(value)


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"{value!r} is not true or false", "Write true or false.")
    return value


def _strings(where: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, f"{value!r} is not a list of strings", 'Give e.g. ["accuracy >= 0.9"].')
    return list(value)


def _duration(where: str, value: Any) -> float:
    from ..monitoring.windows import parse_duration

    try:
        return parse_duration(value)
    except ValidationError as exc:
        raise InvalidAutomationError(f"{where}: {exc}") from None


def _alias(where: str, value: Any) -> str:
    if not isinstance(value, str) or not _ALIAS.fullmatch(value):
        raise _fail(where, f"{value!r} is not an alias", "Give an alias such as production.")
    return value


def _parameters(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _fail(where, f"{value!r} is not a mapping", "Give e.g. {C: 0.1}.")
    for key, item in value.items():
        if isinstance(item, str):
            try:  # a placeholder that cannot be filled is a mistake to report now
                Template(item).substitute({})
            except KeyError:
                pass
            except ValueError:
                raise _fail(
                    f"{where}.{key}", f"{item!r} has a broken placeholder",
                    "Write ${name} (e.g. ${dataset_ref}) or $$ for a dollar sign.",
                ) from None  # fmt: skip
    return dict(value)


def _model_ref(where: str, value: Any) -> str:
    ref = _str(where, value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*([/@][A-Za-z0-9_.-]+)?", ref):
        raise _fail(where, f"{ref!r} is not a model reference", "Give NAME, NAME/3 or NAME@alias.")
    return ref


# Per step kind: option -> (checker, required). ``model`` everywhere means "instead of the
# version an earlier step (or the model trigger) produced".
_CHECKS: dict[str, dict[str, tuple[Any, bool]]] = {
    RUN_NOTEBOOK: {
        "notebook": (_str, True), "parameters": (_parameters, False),
        "experiment": (_str, False), "kernel": (_str, False),
        "timeout": (lambda w, v: _number(w, v, 1), False), "model": (check_name, False),
    },
    TEST: {
        "model": (_model_ref, False), "holdout": (_str, False), "conditions": (_strings, False),
        "test_file": (_str, False), "latency_budget_ms": (lambda w, v: _number(w, v, 0), False),
        "target": (_str, False), "alias": (_alias, False), "allow_pickle": (_bool, False),
    },
    PROMOTE: {
        "model": (_model_ref, False), "to": (_alias, False), "better_than": (_alias, False),
        "metric": (_str, False), "maximize": (_bool, False),
        "min_delta": (lambda w, v: _number(w, v, 0), False), "require": (_strings, False),
        "deploy": (_bool, False),
    },
    DEPLOY_CHALLENGER: {
        "target": (_str, False), "model": (_model_ref, False),
        "mode": (lambda w, v: _choice(w, v, CHALLENGER_MODES), False),
        "share": (lambda w, v: _number(w, v, 0, 1), False), "guards": (_strings, False),
        "for": (_duration, False), "notify": (_strings, False), "allow_pickle": (_bool, False),
    },
    PROMOTE_CHALLENGER: {
        "target": (_str, False), "guards": (_strings, False), "for": (_duration, False),
        "notify": (_strings, False),
    },
    NOTIFY: {"command": (_str, False), "webhook": (_str, False), "message": (_str, False)},
}  # fmt: skip


def _choice(where: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise _fail(where, f"{value!r} is not allowed", f"Use one of {', '.join(choices)}.")
    return str(value)


@dataclass(frozen=True)
class Step:
    """One step of an automation: its kind and its checked options.

    Attributes
    ----------
    kind : str
        One of :data:`STEP_KINDS`.
    options : dict
        The step's settings (see the README for each kind); durations are seconds.
    """

    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_value(cls, value: Any, index: int) -> Step:
        """Read ``{KIND: {option: value}}`` (or a bare ``KIND`` string); ``index`` from 1."""
        where = f"steps[{index}]"
        if isinstance(value, str):
            value = {value: {}}
        if not isinstance(value, Mapping) or len(value) != 1:
            raise _fail(
                where, f"{value!r} is not one step",
                f"Write one mapping with one key, a step kind ({', '.join(STEP_KINDS)}), e.g. "
                "{run_notebook: {notebook: train.ipynb}}.",
            )  # fmt: skip
        ((kind, options),) = value.items()
        if kind not in STEP_KINDS:
            raise _fail(where, f"unknown step {kind!r}", f"Use one of {', '.join(STEP_KINDS)}.")
        options = {} if options is None else options
        if not isinstance(options, Mapping):
            raise _fail(f"{where}.{kind}", f"{options!r} is not a mapping of options",
                        "Write {} for no options.")  # fmt: skip
        checks = _CHECKS[kind]
        checked: dict[str, Any] = {}
        for key, item in options.items():
            if key not in checks:
                raise _fail(
                    f"{where}.{kind}.{key}", "unknown option",
                    f"Options of {kind}: {', '.join(checks) or 'none'}.",
                )  # fmt: skip
            checked[str(key)] = checks[key][0](f"{where}.{kind}.{key}", item)
        for key, (_, required) in checks.items():
            if required and key not in checked:
                raise _fail(f"{where}.{kind}.{key}", "missing", f"{kind} needs {key}.")
        if kind == NOTIFY and not (checked.get("command") or checked.get("webhook")):
            raise _fail(f"{where}.notify", "no target",
                        "Give command: PROGRAM or webhook: https://... (or both).")  # fmt: skip
        if kind == NOTIFY:
            from ..scheduler.notify import check_command, check_webhook

            check_command(checked.get("command"), f"{where}.notify.command", InvalidAutomationError)
            check_webhook(checked.get("webhook"), f"{where}.notify.webhook", InvalidAutomationError)
        if kind == PROMOTE and checked.get("better_than") and not checked.get("metric"):
            raise _fail(f"{where}.promote.metric", "better_than needs a metric",
                        "Add metric: NAME (e.g. accuracy).")  # fmt: skip
        return cls(str(kind), checked)

    def to_value(self) -> dict[str, Any]:
        """The mapping form ``{kind: options}``."""
        return {self.kind: dict(self.options)}


# Steps that work on a model version, which must come from somewhere before them.
_NEEDS_VERSION = (TEST, PROMOTE, DEPLOY_CHALLENGER)
_NEEDS_TARGET = (PROMOTE_CHALLENGER,)


def challenger_alias(step: Step) -> str:
    """The alias whose servers a deploy/promote_challenger step works on (``production``)."""
    target = step.options.get("target") or ""
    return target.split("@", 1)[1] if "@" in target else "production"


def _check_chain(trigger: Trigger, steps: Sequence[Step]) -> None:
    has_version = trigger.kind == MODEL
    has_target = False
    promoted_to: tuple[int, str] | None = None
    for index, step in enumerate(steps, 1):
        if step.kind == PROMOTE:
            promoted_to = (index, step.options.get("to", "production"))
        if (
            step.kind == DEPLOY_CHALLENGER
            and promoted_to
            and promoted_to[1] == challenger_alias(step)
        ):
            raise _fail(
                f"steps[{promoted_to[0]}].promote.to",
                f"the gate would move {promoted_to[1]} to the candidate before step {index} "
                f"runs it as the challenger of {promoted_to[1]}",
                "Let the gate move another alias (to: candidate, better_than: production) and "
                "promote_challenger move production.",
            )  # fmt: skip
        if step.kind == RUN_NOTEBOOK:
            has_version = True
            for key, item in step.options.get("parameters", {}).items():
                _check_placeholders(f"steps[{index}].run_notebook.parameters.{key}", item, trigger)
        if step.kind in _NEEDS_VERSION and not (has_version or step.options.get("model")):
            raise _fail(
                f"steps[{index}].{step.kind}", "no model version to work on",
                "Put a run_notebook step (whose notebook registers a model) before it, use a "
                "model trigger, or give model: NAME/VERSION.",
            )  # fmt: skip
        if step.kind == DEPLOY_CHALLENGER:
            has_target = True
        if step.kind in _NEEDS_TARGET and not (has_target or step.options.get("target")):
            raise _fail(
                f"steps[{index}].{step.kind}", "no challenger to promote",
                "Put a deploy_challenger step before it, or give target: MODEL.",
            )  # fmt: skip


def _check_placeholders(where: str, value: Any, trigger: Trigger) -> None:
    if not isinstance(value, str):
        return
    known = {*COMMON_VALUES, *TRIGGER_VALUES[trigger.kind]}
    for match in Template.pattern.finditer(value):
        name = match.group("named") or match.group("braced")
        if name and name not in known:
            raise _fail(
                where, f"${{{name}}} is not offered by the {trigger.kind} trigger",
                f"Use one of {', '.join('${' + k + '}' for k in sorted(known))}.",
            )  # fmt: skip


# -- the automation --------------------------------------------------------------------------

_KEYS = ("name", "trigger", "steps", "retries", "retry_delay", "timeout", "enabled")


@dataclass(frozen=True)
class AutomationSpec:
    """An automation as declared: what triggers it, its steps, and its failure policy.

    Attributes
    ----------
    name : str
        Unique in the store.
    trigger : Trigger
        What starts an execution.
    steps : tuple of Step
        Run in order; a failed step stops the chain.
    retries : int
        Extra attempts of a failed execution (as a schedule's retries: the whole chain again,
        from the first step, after ``retry_delay`` seconds).
    retry_delay : float
        Seconds between attempts.
    timeout : float or None
        Seconds one execution may take (each notebook step gets what is left of it).
    enabled : bool
        A disabled (paused) automation ignores its trigger; events while paused are skipped.
    """

    name: str
    trigger: Trigger
    steps: tuple[Step, ...]
    retries: int = 0
    retry_delay: float = 60.0
    timeout: float | None = None
    enabled: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AutomationSpec:
        """Build and validate from the mapping form (``mlops.yaml``, the store, the API).

        Raises
        ------
        InvalidAutomationError
            Naming the first bad field (``steps[2].promote.metric``...) and the fix.
        """
        if not isinstance(data, Mapping):
            raise _fail("automation", f"{type(data).__name__} is not a mapping",
                        "Give name, trigger and steps.")  # fmt: skip
        unknown = [k for k in data if k not in _KEYS]
        if unknown:
            raise _fail(f"{unknown[0]}", "unknown field", f"Fields are {', '.join(_KEYS)}.")
        for key in ("name", "trigger", "steps"):
            if key not in data:
                raise _fail(key, "missing", "An automation needs name, trigger and steps.")
        name = check_name(data["name"])
        where = f"automation {name}"
        try:
            trigger = Trigger.from_value(data["trigger"])
            raw_steps = data["steps"]
            if isinstance(raw_steps, (str, Mapping)) or not isinstance(raw_steps, Sequence):
                raise _fail("steps", "not a list", "Give a list of steps.")
            if not raw_steps:
                raise _fail("steps", "empty", "Give at least one step, e.g. run_notebook.")
            steps = tuple(Step.from_value(v, i) for i, v in enumerate(raw_steps, 1))
            _check_chain(trigger, steps)
            retries = data.get("retries", 0)
            if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
                raise _fail("retries", f"{retries!r} is not a whole number >= 0",
                            "Give e.g. retries: 2.")  # fmt: skip
            retry_delay = _number("retry_delay", data.get("retry_delay", 60.0), 0)
            timeout = data.get("timeout")
            timeout = None if timeout is None else _duration("timeout", timeout)
            enabled = _bool("enabled", data.get("enabled", True))
        except InvalidAutomationError as exc:
            raise InvalidAutomationError(f"{where}: {exc}") from None
        return cls(name, trigger, steps, retries, retry_delay, timeout, enabled)

    def to_dict(self) -> dict[str, Any]:
        """The mapping form; ``from_dict(spec.to_dict()) == spec``."""
        return {
            "name": self.name, "trigger": self.trigger.to_value(),
            "steps": [s.to_value() for s in self.steps], "retries": self.retries,
            "retry_delay": self.retry_delay, "timeout": self.timeout, "enabled": self.enabled,
        }  # fmt: skip


def fill_parameters(parameters: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Replace ``${name}`` placeholders in string parameters with the trigger event's values.

    A parameter that is exactly one placeholder takes the value's own type (a version number
    stays a number); placeholders inside longer text are replaced by the value's text.
    """
    out: dict[str, Any] = {}
    for key, item in parameters.items():
        if isinstance(item, str):
            match = Template.pattern.fullmatch(item)
            name = match and (match.group("named") or match.group("braced"))
            if name and name in values:
                out[key] = values[name]
                continue
            item = Template(item).safe_substitute({k: str(v) for k, v in values.items()})
        out[key] = item
    return out
