"""Turn request bodies into validated model input, and predictions into response bytes.

Validation runs before ``predict`` and is strict: every signature column must be present, have
the declared type and be finite; unknown columns are refused too (a misspelt column is a client
bug, not something to ignore silently). Errors name the column and the row but never echo values.

The hot path is lean on purpose: the column order is computed once per server, single rows are
checked with a few type comparisons, numeric models get a numpy array (no pandas per request),
and responses are encoded with orjson.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from ..registry import LoadedModel
from ..registry.signature import NUMERIC_TYPES, example_input, pandas_dtype

PAYLOAD_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
INLINE_ROWS = 256  # larger batches are predicted on a worker thread through a DataFrame


class RequestError(Exception):
    """A client error: the HTTP status and a message that names the problem (no input echoed)."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code

    def body(self) -> bytes:
        """Return the JSON error body (MLflow's ``error_code`` + ``message`` shape)."""
        return orjson.dumps({"error_code": self.code, "message": self.message})


def _invalid(message: str) -> RequestError:
    return RequestError(422, message, "INVALID_PARAMETER_VALUE")


def parse_json(body: bytes) -> Any:
    """Decode a request body; NaN/Infinity literals are let through for validation to name.

    Raises
    ------
    RequestError
        400 for a body that is not JSON (with the position, never the content).
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)  # also accepts NaN / Infinity, which validation reports by column
    except UnicodeDecodeError:
        raise RequestError(400, "The request body is not UTF-8 encoded JSON.") from None
    except ValueError as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        raise RequestError(400, f"The request body is not valid JSON{where}.") from None


def _checker(name: str, kind: str) -> Callable[[Any, int], Any]:
    """Return a function validating (and normalizing) one value of column ``name``."""
    if kind in ("double", "float"):

        def check(v: Any, row: int) -> Any:
            t = v.__class__
            if t is float:
                if v - v != 0.0:
                    raise _invalid(
                        f"Column {name!r} is NaN or infinite at row {row}; send a finite number."
                    )
                return v
            if t is int:
                return v
            raise _type_error(name, kind, v, row)

    elif kind in ("long", "integer"):

        def check(v: Any, row: int) -> Any:
            t = v.__class__
            if t is int:
                return v
            if t is float and v.is_integer():
                return int(v)
            if t is float and v - v != 0.0:
                raise _invalid(f"Column {name!r} is NaN or infinite at row {row}; send an integer.")
            raise _type_error(name, kind, v, row)

    elif kind == "boolean":

        def check(v: Any, row: int) -> Any:
            if v.__class__ is bool:
                return v
            raise _type_error(name, kind, v, row)

    else:  # string, datetime

        def check(v: Any, row: int) -> Any:
            if v.__class__ is str:
                return v
            raise _type_error(name, kind, v, row)

    return check


def _type_error(name: str, kind: str, value: Any, row: int) -> RequestError:
    if value is None:
        return _invalid(f"Column {name!r} is null at row {row}; every input column needs a value.")
    got = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(value.__class__, type(value).__name__)
    want = {
        "double": "a number",
        "float": "a number",
        "long": "an integer",
        "integer": "an integer",
        "boolean": "true or false",
        "string": "a string",
        "datetime": "an ISO 8601 date-time string",
    }[kind]
    return _invalid(f"Column {name!r} expects {want} ({kind}) but got {got} at row {row}.")


class Scorer:
    """Validate requests against a model version's signature and run predictions.

    Parameters
    ----------
    loaded : LoadedModel
        The model and its version record (which must have a signature).
    feature_name_warnings_filtered : bool
        True when the process already ignores sklearn's "X does not have valid feature names"
        warning (the server does), which saves a ``catch_warnings`` per prediction.
    """

    def __init__(self, loaded: LoadedModel, feature_name_warnings_filtered: bool = False):
        signature = loaded.version.signature
        if not signature or "inputs" not in signature:
            raise ValueError(
                f"{loaded.version.ref} has no signature; log it again with input_example=X."
            )
        self.model = loaded.model
        self.version = loaded.version
        self.signature = signature
        inputs = signature["inputs"]
        self.tensor = inputs["type"] == "tensor"
        if self.tensor:
            self.width = int(inputs["width"])
            self.columns = [str(i) for i in range(self.width)]
            kinds = [
                "double"
                if np.dtype(inputs["dtype"]).kind == "f"
                else "boolean"
                if np.dtype(inputs["dtype"]).kind == "b"
                else "long"
            ] * self.width
            self.dtype = np.dtype(inputs["dtype"])
        else:
            self.columns = [c["name"] for c in inputs["columns"]]
            kinds = [c["type"] for c in inputs["columns"]]
            self.width = len(self.columns)
        self.kinds = kinds
        self.column_set = frozenset(self.columns)
        self.checks = [_checker(n, k) for n, k in zip(self.columns, kinds, strict=True)]
        self.numeric = all(k in NUMERIC_TYPES or k == "boolean" for k in kinds)
        self._predict = loaded.model.predict
        self._quiet = hasattr(loaded.model, "feature_names_in_")
        self._filtered = feature_name_warnings_filtered
        self.array_mode = self.tensor or (self.numeric and self._accepts_array())
        self.smoke_test()

    # -- model calls -------------------------------------------------------------------------
    def _frame(self, rows: list[list[Any]]):
        import pandas as pd

        frame = pd.DataFrame(rows, columns=self.columns)
        for name, kind in zip(self.columns, self.kinds, strict=True):
            try:
                frame[name] = frame[name].astype(pandas_dtype(kind))
            except (ValueError, TypeError):
                raise _invalid(f"Column {name!r} has values that are not valid {kind}s.") from None
        return frame

    def _array(self, rows: list[list[Any]]) -> np.ndarray:
        return np.array(rows, dtype=self.dtype if self.tensor else np.float64)

    def _call(self, data: Any) -> Any:
        if self._quiet and not self._filtered and not hasattr(data, "columns"):
            # The model was fitted on a DataFrame; the columns are already checked and ordered,
            # so sklearn's "X does not have valid feature names" warning says nothing here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self._predict(data)
        return self._predict(data)

    def _accepts_array(self) -> bool:
        example = example_input(self.signature)
        try:
            from_frame = np.asarray(self._predict(example))
            from_array = np.asarray(self._call(example.to_numpy(dtype=np.float64)))
        except Exception:
            return False
        return from_frame.shape == from_array.shape and bool(np.all(from_frame == from_array))

    def smoke_test(self) -> None:
        """Predict on the stored example rows (a model that cannot do that is not served)."""
        rows = self.signature.get("example") or []
        if rows:
            self.predict_rows([list(r) for r in rows])

    def predict_rows(self, rows: list[list[Any]]) -> Any:
        """Run the model on validated rows (in signature column order)."""
        if self.array_mode and len(rows) <= INLINE_ROWS:
            return self._call(self._array(rows))
        return self._call(self._array(rows) if self.tensor else self._frame(rows))

    @staticmethod
    def encode(predictions: Any) -> bytes:
        """``{"predictions": [...]}`` as JSON bytes."""
        return orjson.dumps({"predictions": predictions}, option=orjson.OPT_SERIALIZE_NUMPY)

    # -- request parsing ---------------------------------------------------------------------
    def rows_from_invocations(self, payload: Any) -> list[list[Any]]:
        """Return rows from an MLflow scoring payload.

        The payload has one of ``dataframe_split``, ``dataframe_records``, ``instances`` or
        ``inputs``.
        """
        if payload.__class__ is not dict:
            raise RequestError(
                400,
                "The body must be a JSON object with one of the keys "
                f"{', '.join(PAYLOAD_KEYS)} (MLflow's scoring format).",
            )
        keys = [k for k in PAYLOAD_KEYS if k in payload]
        extra = sorted(set(payload) - set(PAYLOAD_KEYS))
        if len(keys) != 1 or extra:
            raise RequestError(
                400,
                "The body must have exactly one of the keys "
                f"{', '.join(PAYLOAD_KEYS)}"
                + (f"; unexpected: {', '.join(map(repr, extra[:5]))}" if extra else "")
                + ".",
            )
        key = keys[0]
        value = payload[key]
        if key == "dataframe_split":
            if value.__class__ is not dict or "data" not in value:
                raise RequestError(
                    400,
                    "dataframe_split must be an object with 'columns' and 'data' (a list of rows).",
                )
            return self.rows_from_split(value.get("columns"), value["data"])
        if key == "dataframe_records":
            return self.rows_from_list(value, "dataframe_records")
        if value.__class__ is dict:  # columnar: {"col": [values...]}
            return self.rows_from_columns(value, key)
        return self.rows_from_list(value, key)

    def rows_from_list(self, items: Any, what: str) -> list[list[Any]]:
        """Rows from a list of records (objects) or of positional rows (arrays)."""
        if items.__class__ is not list or not items:
            raise RequestError(400, f"{what} must be a non-empty list of records.")
        first = items[0].__class__
        if first is dict:
            return [self._record(rec, i) for i, rec in enumerate(items)]
        if first is list:
            return self.rows_from_split(None, items)
        raise RequestError(400, f"{what} must be a list of objects (records) or of arrays (rows).")

    def rows_from_split(self, columns: Any, data: Any) -> list[list[Any]]:
        """Rows from ``columns`` + ``data`` (columns may be omitted: signature order)."""
        if data.__class__ is not list or not data:
            raise RequestError(400, "'data' must be a non-empty list of rows.")
        order = None
        if columns is not None and columns != self.columns:
            if columns.__class__ is not list or not all(c.__class__ is str for c in columns):
                raise RequestError(400, "'columns' must be a list of column names.")
            self._check_names(set(columns), len(columns))
            index = {c: i for i, c in enumerate(columns)}
            order = [index[c] for c in self.columns]
        width, checks, rows = self.width, self.checks, []
        for r, row in enumerate(data):
            if row.__class__ is not list or len(row) != width:
                raise _invalid(
                    f"Row {r} must be an array of {width} values "
                    f"({', '.join(self.columns[:8])}{'...' if width > 8 else ''})."
                )
            if order is not None:
                row = [row[i] for i in order]
            rows.append([check(v, r) for check, v in zip(checks, row)])  # noqa: B905 - checked
        return rows

    def rows_from_columns(self, data: dict, what: str) -> list[list[Any]]:
        """Rows from a columnar object ``{"col": [v1, v2, ...], ...}``."""
        self._check_names(set(data), len(data))
        lengths = {len(v) if v.__class__ is list else -1 for v in data.values()}
        if len(lengths) != 1 or -1 in lengths or 0 in lengths:
            raise RequestError(
                400,
                f"In columnar {what}, every column must be a non-empty list of the same length.",
            )
        columns = [data[c] for c in self.columns]
        return self.rows_from_split(self.columns, [list(r) for r in zip(*columns, strict=True)])

    def _record(self, rec: Any, r: int) -> list[Any]:
        if rec.__class__ is not dict:
            raise _invalid(f"Record {r} must be an object mapping column names to values.")
        if len(rec) != self.width or not self.column_set.issuperset(rec):
            self._check_names(set(rec), len(rec), row=r)
        try:
            return [check(rec[name], r) for name, check in zip(self.columns, self.checks)]  # noqa: B905
        except KeyError:  # pragma: no cover - _check_names covers it
            raise _invalid(f"Record {r} misses a column.") from None

    def _check_names(self, given: set[str], count: int, row: int | None = None) -> None:
        where = f" in record {row}" if row is not None else ""
        missing = [c for c in self.columns if c not in given]
        if missing:
            raise _invalid(
                f"Missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing[:10]))}{where}; the model expects "
                f"{', '.join(map(repr, self.columns[:20]))}."
            )
        unknown = sorted(str(c)[:40] for c in given - self.column_set)  # names only, clipped
        if count != len(given) and not unknown:
            raise _invalid(f"Duplicate column names{where}; give each column once.")
        if unknown:
            raise _invalid(
                f"Unknown column{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown[:10]))}{where}; the model expects "
                f"{', '.join(map(repr, self.columns[:20]))}."
            )
