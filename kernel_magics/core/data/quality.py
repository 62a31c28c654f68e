"""Data quality checks that run when a new dataset version is logged.

A dataset carries one set of checks
(:class:`~kernel_magics.core.store.dataset_checks.DatasetChecks`):

* **inferred** expectations from its first stored tabular version (:func:`infer_expectations`):
  the columns it had (each must still be there), their dtypes, null shares (at most the first
  version's plus :data:`NULL_TOLERANCE`), numeric ranges (the first version's, widened by
  :data:`RANGE_MARGIN` of the span each side) and allowed categories (for a text or boolean
  column with at most :data:`MAX_CATEGORIES` distinct values);
* a **pandera** schema (the ``quality`` extra), kept as pandera's own JSON so a later process
  (a scheduled retrain) runs the same checks; only pandera's built-in checks serialize.

:func:`run_checks` is called by :func:`~kernel_magics.core.data.storing.store_dataset` for every
version logged. The result is recorded with the version. On a failure ``on_fail="warn"`` warns
and goes on; ``on_fail="fail"`` tags the run and raises :class:`DataQualityError` before the
run's training code gets the data.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import DataQualityError, ValidationError
from ..names import Tag

if TYPE_CHECKING:
    from ..store import Store
    from ..store.dataset_checks import CheckResult, DatasetChecks
    from ..store.dataset_versions import DatasetVersionRecord

ON_FAIL = ("warn", "fail")
INFERRED, PANDERA = "inferred", "pandera"
#: A version may have this much more of a column missing than the first version had.
NULL_TOLERANCE = 0.05
#: Numeric ranges are widened by this share of the first version's span on each side.
RANGE_MARGIN = 0.1
#: A text column with more distinct values than this is free text or an id: no category check.
MAX_CATEGORIES = 50
#: Values shown per failed check.
SHOWN_VALUES = 3


def check_on_fail(on_fail: str) -> str:
    """Return ``on_fail`` when it is ``warn`` or ``fail``.

    Raises
    ------
    ValidationError
        Naming the two accepted values.
    """
    if on_fail not in ON_FAIL:
        raise ValidationError(f"on_fail={on_fail!r}: use 'warn' (log and go on) or 'fail'.")
    return on_fail


# -- inferred expectations ------------------------------------------------------------------
def _is_numeric(series: Any) -> bool:
    return series.dtype.kind in "iuf"


def infer_expectations(frame: Any) -> dict[str, Any]:
    """Expectations a later version of ``frame`` should meet (JSON-ready).

    Returns
    -------
    dict
        ``{"columns": [{"name", "dtype", "max_null_share", "min", "max", "categories"}]}``
        (``min``/``max`` for numeric columns, ``categories`` for low-cardinality others).
    """
    columns = []
    for name in frame.columns:
        series = frame[name]
        rows = len(series)
        nulls = float(series.isna().mean()) if rows else 0.0
        spec: dict[str, Any] = {
            "name": str(name),
            "dtype": str(series.dtype),
            "max_null_share": round(min(1.0, nulls + NULL_TOLERANCE), 6),
        }
        values = series.dropna()
        if _is_numeric(series) and not values.empty:
            low, high = float(values.min()), float(values.max())
            margin = (high - low) * RANGE_MARGIN
            spec.update(min=low - margin, max=high + margin)
        elif not _is_numeric(series):
            distinct = values.astype(str).unique()
            if 0 < distinct.size <= MAX_CATEGORIES:
                spec["categories"] = sorted(distinct.tolist())
        columns.append(spec)
    return {"columns": columns}


def _shown(values: Any) -> str:
    """The first few distinct values: numbers as numbers (6 digits), text quoted."""
    texts = []
    for v in values:
        number = isinstance(v, (int, float)) or getattr(v, "dtype", None) is not None
        texts.append(f"{float(v):.6g}" if number and not isinstance(v, bool) else repr(str(v)))
    return ", ".join(list(dict.fromkeys(texts))[:SHOWN_VALUES])


def _failure(check: str, column: str | None, message: str) -> dict[str, Any]:
    return {"check": check, "column": column, "message": message}


def check_expectations(spec: Mapping[str, Any], frame: Any) -> list[dict[str, Any]]:
    """The failures of ``frame`` against inferred expectations (empty when it passes)."""
    failures = []
    for col in spec.get("columns", []):
        name = col["name"]
        if name not in frame.columns:
            failures.append(_failure("column", name, "missing (the first version had it)"))
            continue
        series = frame[name]
        if str(series.dtype) != col["dtype"]:
            failures.append(_failure("dtype", name, f"{series.dtype}, expected {col['dtype']}"))
        nulls = float(series.isna().mean()) if len(series) else 0.0
        if nulls > col["max_null_share"] + 1e-9:
            failures.append(_failure(
                "nulls", name, f"{nulls:.1%} missing, at most {col['max_null_share']:.1%} allowed"
            ))  # fmt: skip
        values = series.dropna()
        if "min" in col and _is_numeric(series) and not values.empty:
            outside = values[(values < col["min"]) | (values > col["max"])]
            if not outside.empty:
                failures.append(_failure(
                    "range", name,
                    f"{len(outside):,} value(s) outside [{col['min']:.6g}, {col['max']:.6g}]: "
                    f"{_shown(outside)}",
                ))  # fmt: skip
        if "categories" in col:
            unseen = values[~values.astype(str).isin(col["categories"])]
            if not unseen.empty:
                failures.append(_failure(
                    "categories", name,
                    f"{len(unseen):,} row(s) with values the first version did not have: "
                    f"{_shown(unseen)}",
                ))  # fmt: skip
    return failures


# -- pandera ---------------------------------------------------------------------------------
def _pandera() -> Any:
    from ..extras import require

    require("quality", feature="pandera data checks")
    import pandera.pandas as pa

    return pa


def load_pandera_schema(target: str) -> Any:
    """Load the pandera schema object ``path.py:name`` names (the file is run as a script).

    Raises
    ------
    ValidationError
        When the target is malformed, the file is missing, or the object is no pandera schema.
    MissingExtraError
        When pandera is not installed.
    """
    pa = _pandera()
    path, sep, attr = target.rpartition(":")
    if not sep or not path or not attr.isidentifier():
        raise ValidationError(f"--pandera {target!r}: write FILE.py:OBJECT, e.g. checks.py:schema.")
    if not Path(path).is_file():
        raise ValidationError(f"--pandera {target!r}: no file {path!r}.")
    import runpy

    namespace = runpy.run_path(path)
    obj = namespace.get(attr)
    if obj is None:
        raise ValidationError(f"{path} defines no {attr!r}; name the schema object after ':'.")
    if isinstance(obj, type) and issubclass(obj, pa.DataFrameModel):
        obj = obj.to_schema()  # type: ignore[attr-defined]
    if not isinstance(obj, pa.DataFrameSchema):
        raise ValidationError(
            f"{path}:{attr} is a {type(obj).__name__}, not a pandera DataFrameSchema or "
            "DataFrameModel."
        )
    return obj


def pandera_spec(schema: Any) -> dict[str, Any]:
    """The schema as pandera's JSON (decoded), checked to load back the same.

    Raises
    ------
    ValidationError
        When the schema uses checks pandera cannot serialize (custom functions).
    """
    import json

    pa = _pandera()
    try:
        text = schema.to_json()
        pa.DataFrameSchema.from_json(text)
    except Exception as exc:  # pandera raises several types for unserializable checks
        raise ValidationError(
            f"This pandera schema cannot be stored ({type(exc).__name__}: {exc}); use pandera's "
            "built-in checks (Check.ge, Check.isin, ...) instead of custom functions."
        ) from None
    return json.loads(text)


def check_pandera(spec: Mapping[str, Any], frame: Any) -> list[dict[str, Any]]:
    """The failures of ``frame`` against a stored pandera schema (empty when it passes)."""
    import json

    pa = _pandera()
    schema = pa.DataFrameSchema.from_json(json.dumps(spec))
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        failures = []
        for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
            frame_wide = column is None or (isinstance(column, float) and math.isnan(column))
            failures.append(_failure(
                str(check), None if frame_wide else str(column),
                f"{len(group):,} failure(s): {_shown(group['failure_case'])}",
            ))  # fmt: skip
        return failures
    return []


# -- a dataset's checks ------------------------------------------------------------------------
def _tabular(store: Store, record: DatasetVersionRecord, data: Any = None) -> Any:
    """The version as a DataFrame (``data`` itself when it is one), or None for other data."""
    if data is not None and hasattr(data, "columns"):
        return data
    if record.schema is None:
        return None  # a folder, or a file that is not CSV, TSV or parquet
    if data is not None and isinstance(data, (str, os.PathLike)) and Path(data).is_file():
        import pandas as pd

        path = Path(data)
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    if not record.stored:
        raise ValidationError(
            f"{record.ref} was recorded by reference only, so its rows cannot be checked; log "
            "it again with store=True."
        )
    from .loading import load_dataset

    return load_dataset(record.ref, store=store)


def set_checks(
    store: Store,
    dataset: str,
    *,
    pandera: str | None = None,
    on_fail: str = "warn",
) -> DatasetChecks:
    """Give ``dataset`` checks, replacing any it had.

    A pandera schema (``FILE.py:OBJECT``) or, without one, expectations inferred from its first
    stored tabular version.

    Raises
    ------
    DatasetNotFoundError
        When the dataset does not exist.
    ValidationError
        When no version is tabular and stored (nothing to infer from) or the schema is bad.
    """
    check_on_fail(on_fail)
    if pandera is not None:
        spec = pandera_spec(load_pandera_schema(pandera))
        return store.dataset_checks.set_checks(dataset, PANDERA, spec, on_fail)
    from .loading import resolve_version

    resolve_version(store, f"{dataset}@latest")  # a clear error when there is no such dataset
    for record in store.dataset_versions.versions(dataset):
        if record.stored and record.schema is not None:
            frame = _tabular(store, record)
            if frame is not None:
                spec = infer_expectations(frame)
                return store.dataset_checks.set_checks(
                    dataset, INFERRED, spec, on_fail, inferred_from=record.id
                )
    raise ValidationError(
        f"No version of {dataset!r} is a stored table to infer expectations from: log a "
        "DataFrame or a CSV/TSV/parquet file (with content stored), or pass --pandera."
    )


def run_checks(
    store: Store,
    record: DatasetVersionRecord,
    data: Any = None,
    *,
    on_fail: str | None = None,
    run_id: str | None = None,
    act: bool = True,
) -> CheckResult | None:
    """Run the dataset's checks on one version; record and act on the result.

    With ``on_fail`` given and no checks yet, expectations are first inferred from the
    dataset's first stored tabular version (this one, for a new dataset).

    Parameters
    ----------
    store : Store
    record : DatasetVersionRecord
        The version just logged (or named by ``mlops datasets check``).
    data : DataFrame or path, optional
        Its content as the caller has it (saves reading it back from the store).
    on_fail : str, optional
        ``warn`` or ``fail``, overriding the policy stored with the checks.
    run_id : str, optional
        The run logging the version: tagged ``mlops.data_quality`` when the checks fail.
    act : bool
        False only records the result (``mlops datasets check`` reports it instead).

    Returns
    -------
    CheckResult or None
        None when the dataset has no checks, or the version is not tabular.

    Raises
    ------
    DataQualityError
        When the checks fail and the policy is ``fail`` (after the result is recorded).
    """
    if on_fail is not None:
        check_on_fail(on_fail)
    checks = store.dataset_checks.get_checks(record.dataset)
    if checks is None and on_fail is not None and record.schema is not None:
        checks = set_checks(store, record.dataset, on_fail=on_fail)
    if checks is None:
        return None
    policy = on_fail or checks.on_fail
    earlier = store.dataset_checks.results([record.id]).get(record.id)
    if act and earlier is not None and earlier.checked_at >= checks.updated_at:
        # the same content logged again, under the same checks: the recorded verdict stands
        failures = earlier.failures
        result = earlier
    else:
        frame = _tabular(store, record, data)
        if frame is None:
            return None
        if checks.kind == PANDERA:
            failures = check_pandera(checks.spec, frame)
        else:
            failures = check_expectations(checks.spec, frame)
        result = store.dataset_checks.record_result(
            record.id, checks.kind, failures, policy, run_id
        )
    if failures and act:
        summary = _summary(record.ref, failures)
        if run_id is not None:
            store.runs.set_tags(run_id, {Tag.DATA_QUALITY: f"failed: {record.ref}"})
        if policy == "fail":
            raise DataQualityError(
                f"{summary} The run stops before training: fix the data, or accept the change "
                f"with `mlops datasets check {record.dataset} --infer` (new expectations) or "
                "on_fail='warn'."
            )
        warnings.warn(summary, UserWarning, stacklevel=3)
    return result


def _summary(ref: str, failures: list[dict[str, Any]]) -> str:
    parts = [f"{f['column']}: {f['message']}" if f["column"] else f["message"] for f in failures]
    shown = "; ".join(parts[:5]) + ("; ..." if len(parts) > 5 else "")
    return f"{ref} failed {len(failures)} quality check(s): {shown}."


def check_version(store: Store, ref: str) -> CheckResult:
    """Run a dataset's checks on version ``ref`` now (``mlops datasets check``).

    Raises
    ------
    ValidationError
        When the dataset has no checks or the version is not tabular.
    """
    from .loading import resolve_version

    record = resolve_version(store, ref)
    if store.dataset_checks.get_checks(record.dataset) is None:
        raise ValidationError(
            f"Dataset {record.dataset!r} has no checks: add them with "
            f"`mlops datasets check {record.dataset} --infer` or --pandera FILE.py:OBJECT."
        )
    result = run_checks(store, record, act=False)
    if result is None:
        raise ValidationError(f"{record.ref} is not a table ({record.kind}): no checks apply.")
    return result
