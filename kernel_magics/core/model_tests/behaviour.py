"""Behavioural checks from the test file: invariance, directional expectations, cases.

The base rows of invariance and directional checks are the check's own ``rows``, else the
file's ``rows``, else the example inputs stored with the version, so a file with no data of its
own still tests the model on realistic input.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .predict import labels, same_label, scores
from .report import CASE, DIRECTIONAL, FAIL, INVARIANCE, PASS, ModelCheck
from .testfile import CaseCheck, DirectionalCheck, InvarianceCheck, TestFile

#: Rows named in a failure's detail (the rest are counted).
SHOWN = 3


def _frame(signature: dict[str, Any], rows: Sequence[dict[str, Any]]):
    import pandas as pd

    from ..registry.signature import pandas_dtype

    columns = signature["inputs"]["columns"]
    frame = pd.DataFrame([{c["name"]: r[c["name"]] for c in columns} for r in rows])
    for col in columns:
        frame[col["name"]] = frame[col["name"]].astype(pandas_dtype(col["type"]))
    return frame


def _base(signature: dict[str, Any], spec: TestFile, own: Any):
    from ..registry.signature import example_input

    rows = own or spec.rows
    return _frame(signature, rows) if rows else example_input(signature)


def _plain(value: Any) -> Any:
    # numpy scalars print as np.int64(34); a user wrote 34
    return value.item() if hasattr(value, "item") else value


def _call(kind: str, name: str, exc: Exception) -> ModelCheck:
    return ModelCheck(kind, name, FAIL, "", "", f"the model raised {type(exc).__name__}: {exc}")


def invariance(model: Any, signature: dict[str, Any], spec: TestFile, check: InvarianceCheck):
    """Set the column to each value in turn; no row's prediction may change."""
    base = _base(signature, spec, check.rows)
    expected = "no prediction changes"
    try:
        before = [same_label(v) for v in labels(model, base)]
        changed: list[str] = []
        for value in check.values:
            varied = base.copy()
            varied[check.column] = value
            varied[check.column] = varied[check.column].astype(base[check.column].dtype)
            after = [same_label(v) for v in labels(model, varied)]
            changed += [
                f"row {i + 1} with {check.column}={value!r}: {b} -> {a}"
                for i, (b, a) in enumerate(zip(before, after, strict=True))
                if a != b
            ]
    except Exception as exc:
        return _call(INVARIANCE, check.name, exc)
    tried = len(base) * len(check.values)
    measured = f"{len(changed)} of {tried} changed"
    if not changed:
        tried_text = f"{len(base)} rows x {len(check.values)} values of {check.column}"
        return ModelCheck(INVARIANCE, check.name, PASS, measured, expected, tried_text)
    more = f" (and {len(changed) - SHOWN} more)" if len(changed) > SHOWN else ""
    detail = (f"changing {check.column} changed the prediction: "
              + "; ".join(changed[:SHOWN]) + more)  # fmt: skip
    return ModelCheck(INVARIANCE, check.name, FAIL, measured, expected, detail)


def directional(model: Any, signature: dict[str, Any], spec: TestFile, check: DirectionalCheck):
    """Add the change to the column; no row's score may move against the expectation."""
    base = _base(signature, spec, check.rows)
    sign = 1 if check.expect == "increase" else -1
    expected = f"score {'rises' if sign > 0 else 'falls'} or stays"
    try:
        varied = base.copy()
        varied[check.column] = (varied[check.column] + check.change).astype(
            base[check.column].dtype
        )
        before = scores(model, base, check.label)
        after = scores(model, varied, check.label)
    except Exception as exc:
        return _call(DIRECTIONAL, check.name, exc)
    wrong = [
        f"row {i + 1} ({check.column} {_plain(base[check.column].iloc[i])!r} -> "
        f"{_plain(varied[check.column].iloc[i])!r}): {b:.3g} -> {a:.3g}"
        for i, (b, a) in enumerate(zip(before, after, strict=True))
        if sign * (a - b) < -check.tolerance
    ]
    measured = f"{len(wrong)} of {len(base)} moved the wrong way"
    if not wrong:
        return ModelCheck(DIRECTIONAL, check.name, PASS, measured, expected,
                          f"{check.column} {check.change:+g} on {len(base)} rows")  # fmt: skip
    more = f" (and {len(wrong) - SHOWN} more)" if len(wrong) > SHOWN else ""
    verb = "raising" if check.change > 0 else "lowering"
    detail = (f"{verb} {check.column} by {abs(check.change):g} should make the score "
              f"{check.expect}, but it went the other way: " + "; ".join(wrong[:SHOWN])
              + more)  # fmt: skip
    return ModelCheck(DIRECTIONAL, check.name, FAIL, measured, expected, detail)


def cases(model: Any, signature: dict[str, Any], checks: list[CaseCheck]) -> list[ModelCheck]:
    """Predict every case in one call; each must get its expected label.

    When that call raises, each case is predicted alone, so only the cases the model fails on
    fail (as the model server does with a batch one request breaks).
    """
    if not checks:
        return []
    try:
        got = labels(model, _frame(signature, [c.input for c in checks]))
    except Exception:
        got = []
        for case in checks:
            try:
                got.append(labels(model, _frame(signature, [case.input]))[0])
            except Exception as exc:
                got.append(exc)
    out = []
    for case, value in zip(checks, got, strict=True):
        if isinstance(value, Exception):
            out.append(_call(CASE, case.name, value))
            continue
        want, have = same_label(case.expect), same_label(value)
        if want == have:
            out.append(ModelCheck(CASE, case.name, PASS, have, want))
        else:
            shown = ", ".join(f"{k}={v!r}" for k, v in case.input.items())
            out.append(ModelCheck(CASE, case.name, FAIL, have, want,
                                  f"predicted {have} for {shown}; expected {want}"))  # fmt: skip
    return out


def run_behaviour_checks(model: Any, signature: dict[str, Any] | None, spec: TestFile):
    """Every behavioural check of ``spec``, in file order (invariance, directional, cases)."""
    if not spec.behavioural or signature is None:
        return []
    out: list[ModelCheck] = []
    for inv in spec.invariance:
        clock = time.perf_counter()
        out.append(invariance(model, signature, spec, inv))
        out[-1].duration_s = time.perf_counter() - clock
    for dire in spec.directional:
        clock = time.perf_counter()
        out.append(directional(model, signature, spec, dire))
        out[-1].duration_s = time.perf_counter() - clock
    clock = time.perf_counter()
    case_checks = cases(model, signature, spec.cases)
    for check in case_checks:
        check.duration_s = (time.perf_counter() - clock) / len(case_checks)
    return out + case_checks
