"""The promotion gate: move an alias to a version only if every condition holds.

``promote("churn", 4, to="production", require=["metrics.accuracy >= 0.9"],
better_than="production", metric="accuracy")`` evaluates each condition against the run that
produced version 4 (and, for ``better_than``, the run of the version the alias points at now),
returns a :class:`GateResult` with one :class:`GateCheck` per condition, and moves the alias only
when all of them pass. ``mlops promote`` prints the checks as a table and exits 1 on failure, so a
CI job can use it as a step.
"""

from __future__ import annotations

import operator
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ModelNotFoundError, NotFoundError, ValidationError
from .registry import AliasMove, ModelVersionRecord, parse_ref, registry
from .registry.records import check_alias, check_name
from .store import Store, open_store

OPERATORS = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
}
CONDITION_RE = re.compile(
    r"^\s*(metrics|params|tags)\.([A-Za-z0-9_.\-/ ]+?)\s*(>=|<=|==|!=|=|>|<)\s*(.+?)\s*$"
)


@dataclass(frozen=True)
class Condition:
    """A parsed ``--require`` condition such as ``metrics.accuracy >= 0.9``."""

    kind: str
    key: str
    op: str
    value: float | str
    text: str


def parse_condition(text: str) -> Condition:
    """Parse ``metrics.KEY OP NUMBER``, ``params.KEY OP VALUE`` or ``tags.KEY OP VALUE``.

    Raises
    ------
    ValidationError
        When the text does not have that shape, or a metric is compared with a non-number.
    """
    match = CONDITION_RE.match(text or "")
    if not match:
        raise ValidationError(
            f"Cannot parse the condition {text!r}. Write it as 'metrics.NAME OP NUMBER' (OP one "
            "of >= <= > < == !=), e.g. 'metrics.accuracy >= 0.9', or 'params.NAME == VALUE'."
        )
    kind, key, op, raw = match.groups()
    raw = raw.strip()
    value: float | str
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        value = raw[1:-1]
    elif kind == "metrics":
        try:
            value = float(raw)
        except ValueError:
            raise ValidationError(
                f"In {text!r}, {raw!r} is not a number; metrics compare with numbers."
            ) from None
    else:
        value = raw
    if kind == "metrics" and isinstance(value, str):
        raise ValidationError(f"In {text!r}, metrics compare with numbers, not strings.")
    return Condition(kind, key.strip(), op, value, text.strip())


@dataclass
class GateCheck:
    """The outcome of one condition."""

    condition: str
    candidate: Any
    reference: Any
    passed: bool
    detail: str = ""


@dataclass
class GateResult:
    """Every check, whether the gate passed, and the alias move it made (if any)."""

    model: str
    candidate_version: int
    alias: str
    checks: list[GateCheck] = field(default_factory=list)
    move: AliasMove | None = None
    deployments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every check passed (a gate with no conditions passes)."""
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        data = asdict(self)
        data["passed"] = self.passed
        return data


def _run_values(store: Store, version: ModelVersionRecord) -> dict[str, dict[str, Any]] | None:
    if version.run_id is None:
        return None
    try:
        run = store.runs.get(version.run_id)
    except NotFoundError:
        return None
    return {"metrics": run.metrics, "params": run.params, "tags": run.tags}


def _check_condition(cond: Condition, values: dict[str, dict[str, Any]] | None) -> GateCheck:
    if values is None:
        return GateCheck(
            cond.text,
            None,
            cond.value,
            False,
            "the candidate version has no run to read values from",
        )
    actual = values[cond.kind].get(cond.key)
    if actual is None:
        known = ", ".join(sorted(values[cond.kind])) or "none"
        return GateCheck(
            cond.text,
            None,
            cond.value,
            False,
            f"the candidate's run has no {cond.kind[:-1]} {cond.key!r} (it has: {known})",
        )
    if cond.kind != "metrics" and isinstance(cond.value, str):
        left: Any = str(actual)
        right: Any = cond.value
        if cond.op not in ("==", "=", "!="):
            try:
                left, right = float(actual), float(cond.value)
            except ValueError:
                return GateCheck(
                    cond.text, actual, cond.value, False, "not numbers, so only == and != apply"
                )
    else:
        left, right = float(actual), float(cond.value)
    return GateCheck(cond.text, actual, cond.value, bool(OPERATORS[cond.op](left, right)))


def _check_better(
    store: Store,
    candidate: ModelVersionRecord,
    values: dict | None,
    alias: str,
    metric: str,
    maximize: bool,
    min_delta: float,
) -> GateCheck:
    sign = ">" if maximize else "<"
    label = f"metrics.{metric} {sign} {candidate.name}@{alias}"
    if min_delta:
        label += f" by {min_delta:g}"
    try:
        current = registry(store).get_version(parse_ref(f"{candidate.name}@{alias}"))
    except ModelNotFoundError:
        return GateCheck(label, None, None, True, f"no {alias} version yet: nothing to beat")
    if current.id == candidate.id:
        return GateCheck(
            label, None, None, False, f"version {candidate.version} already is {alias}"
        )
    mine = None if values is None else values["metrics"].get(metric)
    ref_values = _run_values(store, current)
    theirs = None if ref_values is None else ref_values["metrics"].get(metric)
    if mine is None:
        return GateCheck(label, None, theirs, False, f"the candidate has no metric {metric!r}")
    if theirs is None:
        return GateCheck(
            label, mine, None, True, f"{candidate.name}/{current.version} has no metric {metric!r}"
        )
    delta = (mine - theirs) if maximize else (theirs - mine)
    passed = delta > 0 and delta >= min_delta
    return GateCheck(
        label,
        mine,
        theirs,
        passed,
        f"v{current.version}: {theirs:g}, {'+' if mine >= theirs else ''}{mine - theirs:g}",
    )


def _check_tests(store: Store, candidate: ModelVersionRecord) -> GateCheck:
    # --require-tests: the newest `mlops test` report stored with the version must have passed.
    label = "model tests passed"
    last = store.model_tests.last(candidate.id)
    if last is None:
        detail = f"{candidate.ref} was never tested; run: mlops test {candidate.ref}"
        return GateCheck(label, "never tested", "passed", False, detail)
    failed = [c["name"] for c in last.report.get("checks", []) if c.get("outcome") == "FAIL"]
    detail = "last test: " + ("all checks passed" if last.passed else "failed " + "; ".join(failed))
    verdict = "passed" if last.passed else "failed"
    return GateCheck(label, verdict, "passed", last.passed, detail)


def promote(
    name: str,
    version: int | None = None,
    *,
    to: str = "production",
    require: list[str] | tuple[str, ...] = (),
    better_than: str | None = None,
    metric: str | None = None,
    maximize: bool = True,
    min_delta: float = 0.0,
    require_tests: bool = False,
    deploy: bool = False,
    dry_run: bool = False,
    store: Store | None = None,
) -> GateResult:
    """Move ``name@to`` to ``version`` if every condition holds.

    Parameters
    ----------
    name : str
        The model.
    version : int, optional
        The candidate; the latest version when omitted.
    to : str
        The alias to move (``production`` by default).
    require : list of str
        Conditions on the candidate's run: ``"metrics.accuracy >= 0.9"``, ``"params.C == 0.1"``.
    better_than : str, optional
        An alias the candidate must beat on ``metric`` (usually the same as ``to``).
    metric : str, optional
        The metric compared for ``better_than``.
    maximize : bool
        Higher is better (False: lower is better, e.g. for a loss).
    min_delta : float
        The candidate must win by at least this much.
    require_tests : bool
        Refuse a candidate whose last ``mlops test`` report failed or that was never tested.
    deploy : bool
        After moving the alias, redeploy the running servers of ``name@to`` (zero downtime),
        or start one when none runs.
    dry_run : bool
        Evaluate without moving anything.
    store : Store, optional
        The default store when omitted.

    Returns
    -------
    GateResult
        ``.passed``, ``.checks`` and ``.move``.

    Raises
    ------
    ValidationError
        For a malformed condition, or ``better_than`` without ``metric``.
    ModelNotFoundError
        When the model or version does not exist.
    """
    check_name(name)
    check_alias(to)
    conditions = [parse_condition(text) for text in require]  # all syntax errors before work
    if better_than is not None:
        check_alias(better_than)
        if not metric:
            raise ValidationError(
                "--better-than needs --metric NAME (the metric to compare, e.g. accuracy)."
            )
    store = store or open_store()
    repo = registry(store)
    ref = parse_ref(name if version is None else f"{name}/{int(version)}")
    candidate = repo.get_version(ref)
    values = _run_values(store, candidate)
    result = GateResult(name, candidate.version, to)
    result.checks = [_check_condition(c, values) for c in conditions]
    if better_than is not None:
        assert metric is not None
        result.checks.append(
            _check_better(store, candidate, values, better_than, metric, maximize, min_delta)
        )
    if require_tests:
        result.checks.append(_check_tests(store, candidate))
    if dry_run:
        return result
    # Every real attempt is kept, failed ones too: a model card shows a reviewer what was tried.
    store.promotion_gates.record(
        candidate.id, to, result.passed, [asdict(c) for c in result.checks]
    )
    if not result.passed:
        return result
    summary = "; ".join(c.condition for c in result.checks) or "no conditions"
    result.move = repo.set_alias(name, to, candidate.version, reason=f"promote: {summary}")
    if deploy:
        from .serving.deployments import redeploy_alias

        result.deployments = [
            d.to_dict() for d in redeploy_alias(name, to, store=store, start_if_none=True)
        ]
    return result
