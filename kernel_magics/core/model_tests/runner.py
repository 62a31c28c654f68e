"""``run_model_tests``: every check on one model version, recorded in the store.

The order is the order a reviewer reads: performance on the holdout, signature compatibility
with the alias, latency, then the behavioural checks of the test file. Every input (conditions,
the test file, the holdout, column names) is validated before the model is loaded, so a typo
costs no prediction; a model that raises during a check fails that check, it does not stop the
report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import UnsafeModelError, ValidationError
from ..registry import parse_ref
from ..registry.formats import PICKLE_FORMATS
from ..store import Store
from .behaviour import run_behaviour_checks
from .checks import latency_check, performance_checks, signature_check
from .holdout import Holdout, load_holdout
from .report import ModelCheck, ModelTestReport
from .testfile import TestFile, load_test_file, parse_metric_condition

DEFAULT_ALIAS = "production"


def run_model_tests(
    store: Store,
    ref: str,
    *,
    holdout: Any = None,
    conditions: Sequence[str] = (),
    test_file: str | os.PathLike[str] | None = None,
    latency_budget_ms: float | None = None,
    target: str | None = None,
    alias: str | None = None,
    record: bool = True,
    allow_pickle: bool = False,
    pickle_opt_in: str = "allow_pickle=True",
) -> ModelTestReport:
    """Test a model version and record the report with the version.

    Parameters
    ----------
    store : Store
        Where the model (and the holdout dataset) live, and where the report is recorded.
    ref : str
        The version to test: ``churn/7``, ``churn@staging`` or ``churn`` (the latest).
    holdout : str, path or DataFrame, optional
        Labelled data the model never saw: a dataset version (``holdout@3``), a CSV/Parquet
        file, or a DataFrame. Overrides the test file's ``holdout``.
    conditions : sequence of str
        Metric conditions on the holdout, like the promotion gate's: ``"accuracy >= 0.85"``
        (``metrics.`` may be written or left out). Added to the test file's ``conditions``.
    test_file : path, optional
        The model's test file (YAML, see :mod:`.testfile`): holdout, conditions, latency budget,
        and the behavioural checks (invariance, directional, cases).
    latency_budget_ms : float, optional
        The p95 of single-row predictions on the stored example inputs must stay within this.
        Overrides the test file's ``latency_budget_ms``.
    target : str, optional
        The holdout's label column (default: the test file's, else the one holdout column that
        is not a model input).
    alias : str, optional
        The alias whose served version the signature must stay compatible with (default: the
        test file's, else ``production``).
    record : bool
        Store the report with the version (``store.model_tests``), for promote and model cards.
    allow_pickle : bool
        Needed to test a version stored with pickle/cloudpickle (loading it runs its code), as
        everywhere else in the product (``mlops deploy --allow-pickle``).
    pickle_opt_in : str
        How the caller's user gives that opt-in, for the refusal's message
        (``--allow-pickle`` from the CLI, ``allow_pickle: true`` in an automation step).

    Returns
    -------
    ModelTestReport
        ``.passed``, ``.checks``, ``.rows`` (the table), ``.to_junit()``, ``.to_markdown()``.

    Raises
    ------
    ValidationError
        For a malformed condition or test file, an unknown column, conditions without a holdout,
        or a holdout that cannot be read, before any prediction.
    UnsafeModelError
        For a pickle/cloudpickle version without ``allow_pickle``, before anything is read.
    ModelNotFoundError
        When the version does not exist.
    """
    spec = load_test_file(test_file) if test_file is not None else TestFile()
    parsed = [*spec.conditions, *(parse_metric_condition(c, "--condition") for c in conditions)]
    budget = latency_budget_ms if latency_budget_ms is not None else spec.latency_budget_ms
    if budget is not None and (not isinstance(budget, (int, float)) or budget <= 0):
        raise ValidationError(
            f"The latency budget must be a positive number of milliseconds, not {budget!r}."
        )
    holdout_source = holdout if holdout is not None else spec.holdout
    if parsed and holdout_source is None:
        raise ValidationError(
            "Metric conditions need labelled data to measure them on: pass --holdout "
            "DATASET@VERSION (or a CSV/Parquet file), or set 'holdout' in the test file."
        )
    compare_alias = alias or spec.alias or DEFAULT_ALIAS
    version = store.models.get_version(parse_ref(ref))
    if version.format in PICKLE_FORMATS and not allow_pickle:
        raise UnsafeModelError(
            f"{version.ref} is stored with {version.format}, which runs code from the file when "
            f"loaded; testing it needs the explicit opt-in {pickle_opt_in} (only if you trust "
            "whoever logged it), or log the model again with format='skops'."
        )
    signature = version.signature
    spec.check_columns(signature)
    data: Holdout | None = None
    if holdout_source is not None:
        data = load_holdout(store, holdout_source, signature, target or spec.target)

    from ..registry import load_model_version

    started = time.time()
    clock = time.perf_counter()
    model = load_model_version(version.ref, allow_pickle=allow_pickle, store=store).model
    checks: list[ModelCheck] = []
    if data is not None:
        checks += performance_checks(model, data, parsed)
    checks.append(signature_check(store, version, compare_alias))
    if budget is not None:
        checks.append(latency_check(model, signature, float(budget)))
    checks += run_behaviour_checks(model, signature, spec)
    report = ModelTestReport(
        model=version.name,
        version=version.version,
        checks=checks,
        started_at=started,
        duration_s=time.perf_counter() - clock,
        options={
            "holdout": data.label if data is not None else None,
            "target": data.target if data is not None else None,
            "conditions": [c.text for c in parsed],
            "test_file": _display_path(test_file),
            "latency_budget_ms": budget,
            "alias": compare_alias,
        },
    )
    if record:
        report.id = store.model_tests.record(version.id, report.to_dict())
    return report


def _display_path(path: str | os.PathLike[str] | None) -> str | None:
    # Recorded for the reader; relative to the working folder when under it (no home paths).
    if path is None:
        return None
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return p.name
