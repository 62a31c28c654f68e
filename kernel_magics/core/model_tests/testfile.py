"""The model's test file: what ``mlops test --tests tests.yaml`` checks, declared in YAML.

::

    holdout: churn-holdout@2        # a dataset version, or a CSV/Parquet file
    target: churned                 # its label column (default: the one non-input column)
    conditions: ["accuracy >= 0.85", "f1 >= 0.8"]
    latency_budget_ms: 20           # p95 of single-row predictions on the stored example
    alias: production               # the signature must stay compatible with what it serves
    rows:                           # base rows of the checks below (default: the example)
      - {tenure: 3, monthly: 80.0, region: north}
    invariance:                     # changing the column must not change the prediction
      - {name: region does not matter, column: region, values: [north, south]}
    directional:                    # raising the column moves the score only this way
      - {name: loyal customers churn less, column: tenure, change: 24, expect: decrease}
    cases:                          # minimum functionality: given input -> expected label
      - {name: new expensive plan churns, input: {tenure: 1, monthly: 99.0, region: north},
         expect: 1}

Every key is optional. Problems are reported with the file, the entry and the fix, before any
prediction (:func:`load_test_file`, then :meth:`TestFile.check_columns` with the signature).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ValidationError
from ..monitoring.accuracy import CLASSIFICATION_METRICS, REGRESSION_METRICS
from ..promotion import Condition, parse_condition

#: The metrics a holdout condition can name (those :func:`accuracy_metrics` computes).
HOLDOUT_METRICS = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
DIRECTIONS = ("increase", "decrease")
KEYS = ("holdout", "target", "conditions", "latency_budget_ms", "alias", "rows", "invariance",
        "directional", "cases")  # fmt: skip


def parse_metric_condition(text: Any, where: str) -> Condition:
    """Parse ``accuracy >= 0.85`` (or ``metrics.accuracy >= 0.85``) with the gate's parser.

    Raises
    ------
    ValidationError
        For a malformed condition or a metric a holdout does not give (naming those it does).
    """
    if not isinstance(text, str):
        raise ValidationError(f"{where}: {text!r} is not a condition; write 'accuracy >= 0.85'.")
    full = text.strip() if text.strip().startswith("metrics.") else f"metrics.{text.strip()}"
    try:
        cond = parse_condition(full)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    if cond.key not in HOLDOUT_METRICS:
        raise ValidationError(
            f"{where}: {cond.key!r} is not a holdout metric; use one of "
            f"{', '.join(HOLDOUT_METRICS)} (e.g. 'accuracy >= 0.85')."
        )
    return Condition(cond.kind, cond.key, cond.op, cond.value, text.strip())


@dataclass(frozen=True)
class InvarianceCheck:
    """Setting ``column`` to each of ``values`` must not change any base row's prediction."""

    name: str
    column: str
    values: tuple[Any, ...]
    rows: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class DirectionalCheck:
    """Adding ``change`` to ``column`` must move no row's score against ``expect``.

    The score is the probability of ``label`` (default: the last class) for a classifier with
    ``predict_proba``, else the prediction. ``tolerance`` is how far a score may move the wrong
    way and still pass.
    """

    name: str
    column: str
    change: float
    expect: str
    label: Any = None
    tolerance: float = 0.0
    rows: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class CaseCheck:
    """``input`` (one row, every input column) must be predicted as ``expect``."""

    name: str
    input: dict[str, Any]
    expect: Any


@dataclass
class TestFile:
    """A parsed test file (empty when no file was given)."""

    __test__ = False  # not a pytest test class, whatever its name

    path: str = ""
    holdout: str | None = None
    target: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    latency_budget_ms: float | None = None
    alias: str | None = None
    rows: tuple[dict[str, Any], ...] | None = None
    invariance: list[InvarianceCheck] = field(default_factory=list)
    directional: list[DirectionalCheck] = field(default_factory=list)
    cases: list[CaseCheck] = field(default_factory=list)

    @property
    def behavioural(self) -> int:
        """How many behavioural checks the file declares."""
        return len(self.invariance) + len(self.directional) + len(self.cases)

    def check_columns(self, signature: dict[str, Any] | None) -> None:
        """Check that every column the file names is an input of the model.

        Raises
        ------
        ValidationError
            Naming the entry, the unknown column and the model's columns.
        """
        if not self.behavioural and self.rows is None:
            return
        from ..registry.signature import NUMERIC_TYPES, column_names

        names = column_names(signature) if signature else None
        if names is None:
            raise ValidationError(
                f"{self.path}: behavioural checks need a model with named input columns (logged "
                "from a DataFrame); this version has a tensor or no signature."
            )
        known = ", ".join(names)

        def check(where: str, columns: Any, every: bool = False) -> None:
            unknown = [c for c in columns if c not in names]
            if unknown:
                raise ValidationError(
                    f"{self.path}: {where} names {', '.join(map(repr, unknown))}, which the "
                    f"model does not take; its input columns are: {known}."
                )
            missing = [c for c in names if c not in columns] if every else []
            if missing:
                raise ValidationError(
                    f"{self.path}: {where} lacks {', '.join(map(repr, missing))}; give every "
                    f"input column ({known})."
                )

        for i, row in enumerate(self.rows or ()):
            check(f"rows[{i}]", row, every=True)
        for i, inv in enumerate(self.invariance):
            check(f"invariance[{i}] ({inv.name})", [inv.column])
            for j, row in enumerate(inv.rows or ()):
                check(f"invariance[{i}].rows[{j}]", row, every=True)
        types = {c["name"]: c["type"] for c in signature["inputs"]["columns"]}  # type: ignore[index]
        for i, dire in enumerate(self.directional):
            check(f"directional[{i}] ({dire.name})", [dire.column])
            if types[dire.column] not in NUMERIC_TYPES:
                raise ValidationError(
                    f"{self.path}: directional[{i}] ({dire.name}) changes {dire.column!r}, a "
                    f"{types[dire.column]} column; 'change' adds a number, so pick a numeric "
                    "column (or test a category with invariance)."
                )
            for j, row in enumerate(dire.rows or ()):
                check(f"directional[{i}].rows[{j}]", row, every=True)
        for i, case in enumerate(self.cases):
            check(f"cases[{i}] ({case.name})", case.input, every=True)


def load_test_file(path: str | os.PathLike[str]) -> TestFile:
    """Read and validate a test file.

    Raises
    ------
    ValidationError
        When the file is missing, is not YAML, or an entry is malformed (file, entry and fix).
    """
    from ..yaml_files import read_yaml_file

    file = Path(path)
    missing = ValidationError(
        f"Test file {file.name!r} not found; pass --tests with the path of the model's "
        "YAML test file (see README, 'Model tests')."
    )
    data = read_yaml_file(file, missing)
    return parse_test_file(data if data is not None else {}, file.name)


def _rows(value: Any, where: str) -> tuple[dict[str, Any], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(r, dict) for r in value):
        raise ValidationError(f"{where} must be a list of rows (mappings of column: value).")
    return tuple(dict(r) for r in value)


def _text(entry: dict, key: str, where: str, example: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where} needs {key!r} ({example}).")
    return value


def _entries(data: dict, key: str, where: str) -> list[tuple[str, dict]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise ValidationError(f"{where}: {key!r} must be a list of mappings.")
    return [(f"{where}: {key}[{i}]", e) for i, e in enumerate(value)]


def parse_test_file(data: Any, name: str = "tests.yaml") -> TestFile:
    """Validate the mapping of a test file (see the module docstring for its shape).

    Raises
    ------
    ValidationError
        Naming the file, the entry and the fix.
    """
    if not isinstance(data, dict):
        raise ValidationError(f"{name} must hold a mapping (holdout:, conditions:, cases: ...).")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise ValidationError(
            f"{name}: unknown key(s) {', '.join(map(repr, unknown))}; the keys are: "
            f"{', '.join(KEYS)}."
        )
    spec = TestFile(path=name)
    holdout = data.get("holdout")
    if holdout is not None and not isinstance(holdout, str):
        raise ValidationError(f"{name}: 'holdout' is a dataset version (holdout@2) or a file.")
    spec.holdout = holdout
    spec.target = data.get("target")
    spec.alias = data.get("alias")
    conditions = data.get("conditions") or []
    if isinstance(conditions, str):
        conditions = [conditions]
    spec.conditions = [
        parse_metric_condition(c, f"{name}: conditions[{i}]") for i, c in enumerate(conditions)
    ]
    budget = data.get("latency_budget_ms")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))):
        raise ValidationError(f"{name}: 'latency_budget_ms' is a number of milliseconds.")
    spec.latency_budget_ms = budget
    spec.rows = _rows(data.get("rows"), f"{name}: rows")
    for where, e in _entries(data, "invariance", name):
        values = e.get("values")
        if not isinstance(values, list) or not values:
            raise ValidationError(f"{where} needs 'values': a list of values to try.")
        column = _text(e, "column", where, "the input column to change")
        spec.invariance.append(InvarianceCheck(
            str(e.get("name") or f"{column} does not change the prediction"), column,
            tuple(values), _rows(e.get("rows"), f"{where}.rows")))  # fmt: skip
    for where, e in _entries(data, "directional", name):
        column = _text(e, "column", where, "the input column to raise")
        change = e.get("change")
        if isinstance(change, bool) or not isinstance(change, (int, float)) or change == 0:
            raise ValidationError(f"{where} needs 'change': a non-zero number added to {column}.")
        expect = e.get("expect")
        if expect not in DIRECTIONS:
            raise ValidationError(f"{where}: 'expect' is 'increase' or 'decrease' (the score).")
        tolerance = e.get("tolerance", 0.0)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
            raise ValidationError(f"{where}: 'tolerance' is a number >= 0.")
        spec.directional.append(DirectionalCheck(
            str(e.get("name") or f"{column} {change:+g}: score {expect}s"), column,
            float(change), expect, e.get("label"), float(tolerance),
            _rows(e.get("rows"), f"{where}.rows")))  # fmt: skip
    for where, e in _entries(data, "cases", name):
        row = e.get("input")
        if not isinstance(row, dict) or not row:
            raise ValidationError(f"{where} needs 'input': a mapping of every input column.")
        if "expect" not in e:
            raise ValidationError(f"{where} needs 'expect': the label the model should give.")
        spec.cases.append(
            CaseCheck(str(e.get("name") or f"case {len(spec.cases) + 1}"), dict(row), e["expect"])
        )
    return spec
