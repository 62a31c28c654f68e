"""The checks that need no test file: holdout performance, signature compatibility, latency."""

from __future__ import annotations

import statistics
import time
from typing import Any

from ...errors import ModelNotFoundError
from ..promotion import OPERATORS, Condition
from ..registry import ModelVersionRecord, parse_ref
from ..store import Store
from .holdout import Holdout
from .predict import labels, scores
from .report import FAIL, LATENCY, PASS, PERFORMANCE, SIGNATURE, SKIP, ModelCheck

#: Single-row predictions timed for the latency check (the example's rows, round after round).
LATENCY_SAMPLES = 50
#: A numeric column may widen (clients' numbers still fit); any other type change breaks them.
WIDENING = {("integer", "long"), ("integer", "float"), ("integer", "double"),
            ("long", "double"), ("float", "double")}  # fmt: skip


def _failed_call(kind: str, name: str, exc: Exception, expected: str = "") -> ModelCheck:
    return ModelCheck(kind, name, FAIL, "", expected,
                      f"the model raised {type(exc).__name__}: {exc}")  # fmt: skip


def performance_checks(model: Any, data: Holdout, conditions: list[Condition]) -> list[ModelCheck]:
    """One check per condition, on the metrics of the model's predictions on the holdout."""
    from ..monitoring.accuracy import accuracy_metrics, is_classification

    clock = time.perf_counter()
    try:
        predicted = labels(model, data.inputs)
        score = None
        if hasattr(model, "predict_proba") and len(set(map(str, data.labels))) == 2:
            score = scores(model, data.inputs)
    except Exception as exc:
        return [_failed_call(PERFORMANCE, c.text, exc, f"{c.op} {c.value:g}") for c in conditions]
    metrics = accuracy_metrics(data.labels, predicted, score)
    task = "classification" if is_classification(data.labels, predicted) else "regression"
    took = (time.perf_counter() - clock) / max(len(conditions), 1)
    out = []
    for cond in conditions:
        expected = f"{cond.op} {cond.value:g}"
        actual = metrics.get(cond.key)
        if actual is None:
            detail = (f"{cond.key} cannot be computed on {data.label}: its labels "
                      f"({data.target}) look like a {task} target")  # fmt: skip
            out.append(ModelCheck(PERFORMANCE, cond.text, FAIL, "", expected, detail, took))
            continue
        passed = bool(OPERATORS[cond.op](actual, float(cond.value)))
        detail = f"on {len(data.labels)} rows of {data.label}"
        if not passed:
            detail = f"{cond.key} is {actual:.4g} {detail}, the condition asks {expected}"
        out.append(ModelCheck(PERFORMANCE, cond.text, PASS if passed else FAIL,
                              f"{actual:.4g}", expected, detail, took))  # fmt: skip
    return out


def signature_problems(current: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """What would break for clients of ``current`` if ``candidate`` served them instead.

    A removed column is refused by strict scoring, an added one is missing from today's requests,
    and a retyped one (other than a numeric widening such as integer -> long) no longer parses.
    """
    old, new = current["inputs"], candidate["inputs"]
    if old["type"] != new["type"]:
        return [f"the inputs change from {old['type']} to {new['type']}"]
    if old["type"] == "tensor":
        problems = []
        if old["width"] != new["width"]:
            problems.append(f"the input width changes from {old['width']} to {new['width']}")
        if old["dtype"] != new["dtype"]:
            problems.append(f"the input dtype changes from {old['dtype']} to {new['dtype']}")
        return problems
    before = {c["name"]: c["type"] for c in old["columns"]}
    after = {c["name"]: c["type"] for c in new["columns"]}
    problems = [f"removed column {name!r}" for name in before if name not in after]
    problems += [f"new required column {name!r}" for name in after if name not in before]
    problems += [
        f"column {name!r} retyped {before[name]} -> {after[name]}"
        for name in before
        if name in after
        and before[name] != after[name]
        and (before[name], after[name]) not in WIDENING
    ]
    return problems


def signature_check(store: Store, version: ModelVersionRecord, alias: str) -> ModelCheck:
    """The candidate's inputs against those of the version ``name@alias`` serves now."""
    name = f"inputs compatible with {version.name}@{alias}"
    try:
        current = store.models.get_version(parse_ref(f"{version.name}@{alias}"))
    except ModelNotFoundError:
        return ModelCheck(SIGNATURE, name, SKIP, "", "", f"no version is {alias} yet")
    if current.id == version.id:
        return ModelCheck(SIGNATURE, name, SKIP, "", "", f"v{version.version} is {alias} itself")
    if current.signature is None or version.signature is None:
        which = version.ref if version.signature is None else current.ref
        return ModelCheck(SIGNATURE, name, SKIP, "", "", f"{which} has no signature")
    problems = signature_problems(current.signature, version.signature)
    expected = f"same inputs as v{current.version}"
    if problems:
        detail = (f"clients of {version.name}@{alias} (v{current.version}) would break: "
                  + "; ".join(problems))  # fmt: skip
        return ModelCheck(SIGNATURE, name, FAIL, f"{len(problems)} change(s)", expected, detail)
    return ModelCheck(SIGNATURE, name, PASS, "compatible", expected, "")


def latency_check(model: Any, signature: dict[str, Any] | None, budget_ms: float) -> ModelCheck:
    """The p95 of single-row predictions on the stored example inputs, against the budget."""
    from ..registry.signature import example_input

    name = f"p95 latency <= {budget_ms:g} ms"
    expected = f"<= {budget_ms:g} ms"
    if not signature or not signature.get("example"):
        return ModelCheck(LATENCY, name, FAIL, "", expected,
                          "this version has no stored example inputs to time")  # fmt: skip
    example = example_input(signature)
    # One row per call, as a model server answers a request; the first call warms caches.
    rows = [example[i : i + 1] for i in range(len(example))]
    clock = time.perf_counter()
    samples: list[float] = []
    try:
        model.predict(rows[0])
        while len(samples) < LATENCY_SAMPLES:
            for row in rows:
                start = time.perf_counter()
                model.predict(row)
                samples.append((time.perf_counter() - start) * 1000)
    except Exception as exc:
        return _failed_call(LATENCY, name, exc, expected)
    p50 = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    measured = f"p95 {p95:.3g} ms (p50 {p50:.3g})"
    detail = f"{len(samples)} single-row predictions on the stored example"
    if p95 > budget_ms:
        detail = f"p95 is {p95:.3g} ms, over the {budget_ms:g} ms budget ({detail})"
    return ModelCheck(LATENCY, name, PASS if p95 <= budget_ms else FAIL, measured, expected,
                      detail, time.perf_counter() - clock)  # fmt: skip
