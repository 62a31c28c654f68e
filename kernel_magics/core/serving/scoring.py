"""Turn request bodies into validated model input, and predictions into response bytes.

Validation runs before ``predict`` and is strict by default: every signature column must be
present, have the declared type and fit its dtype; unknown columns are refused too (a misspelt
column is a client bug, not something to ignore silently). A *lenient* server (the deployment
option ``lenient``) does what MLflow's scoring server does instead: it drops unknown columns and
converts numbers sent as strings. Errors name the column and the row but never echo values.

The hot path is lean on purpose: the column order is computed once per server, single rows are
checked with a few type comparisons, numeric models get a numpy array (no pandas per request),
and responses are encoded with orjson.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import orjson

from ..registry import LoadedModel
from ..registry.signature import NUMERIC_TYPES, example_input, pandas_dtype
from .columns import checker, kind_of
from .payloads import (
    CSV,
    PARAMS_KEY,
    RequestError,
    clip,
    invalid,
    parse_csv,
    parse_json,
    split_invocation,
)

INLINE_ROWS = 256  # larger batches are predicted on a worker thread through a DataFrame


class Scorer:
    """Validate requests against a model version's signature and run predictions.

    Parameters
    ----------
    loaded : LoadedModel
        The model and its version record (which must have a signature).
    feature_name_warnings_filtered : bool
        True when the process already ignores sklearn's "X does not have valid feature names"
        warning (the server does), which saves a ``catch_warnings`` per prediction.
    lenient : bool
        MLflow's behaviours a migrating client may depend on: unknown columns are dropped and
        numbers sent as strings are converted (strict validation otherwise).
    """

    def __init__(
        self,
        loaded: LoadedModel,
        feature_name_warnings_filtered: bool = False,
        lenient: bool = False,
    ):
        signature = loaded.version.signature
        if not signature or "inputs" not in signature:
            raise ValueError(
                f"{loaded.version.ref} has no signature; log it again with input_example=X."
            )
        self.model = loaded.model
        self.version = loaded.version
        self.signature = signature
        self.lenient = lenient
        inputs = signature["inputs"]
        self.tensor = inputs["type"] == "tensor"
        if self.tensor:
            self.dtype = np.dtype(inputs["dtype"])
            self.width = int(inputs["width"])
            self.columns = [str(i) for i in range(self.width)]
            kinds = [kind_of(self.dtype)] * self.width
            dtypes = [self.dtype] * self.width
        else:
            self.columns = [c["name"] for c in inputs["columns"]]
            kinds = [c["type"] for c in inputs["columns"]]
            dtypes = [None] * len(kinds)
            self.width = len(self.columns)
        self.kinds = kinds
        self.column_set = frozenset(self.columns)
        specs = list(zip(self.columns, kinds, dtypes, strict=True))
        self.checks = [checker(n, k, d, from_text=lenient) for n, k, d in specs]
        self.text_checks = [checker(n, k, d, from_text=True) for n, k, d in specs]
        self.numeric = all(k in NUMERIC_TYPES or k == "boolean" for k in kinds)
        self._predict = loaded.model.predict
        self.accepts_params = _accepts_params(loaded.model.predict)
        self._quiet = hasattr(loaded.model, "feature_names_in_")
        self._filtered = feature_name_warnings_filtered
        self.array_mode = self.tensor or (self.numeric and self._accepts_array())
        self.smoke_test()

    # -- model calls -------------------------------------------------------------------------
    def _frame(self, rows: list[list[Any]]):
        import pandas as pd

        # Column by column: each conversion is a short C call, so the event loop (which needs
        # the GIL to answer /health meanwhile) is never held up for the whole batch at once.
        data = {}
        for i, (name, kind) in enumerate(zip(self.columns, self.kinds, strict=True)):
            try:
                data[name] = pd.Series([row[i] for row in rows], dtype=object).astype(
                    pandas_dtype(kind)
                )
            except (ValueError, TypeError):
                raise invalid(f"Column {name!r} has values that are not valid {kind}s.") from None
        return pd.DataFrame(data, columns=self.columns)

    def _array(self, rows: list[list[Any]]) -> np.ndarray:
        return np.array(rows, dtype=self.dtype if self.tensor else np.float64)

    def _call(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        extra = {"params": params} if params is not None else {}
        if self._quiet and not self._filtered and not hasattr(data, "columns"):
            # The model was fitted on a DataFrame; the columns are already checked and ordered,
            # so sklearn's "X does not have valid feature names" warning says nothing here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self._predict(data, **extra)
        return self._predict(data, **extra)

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

    def predict_rows(self, rows: list[list[Any]], params: dict[str, Any] | None = None) -> Any:
        """Run the model on validated rows (in signature column order), with MLflow ``params``."""
        if self.array_mode and len(rows) <= INLINE_ROWS:
            return self._call(self._array(rows), params)
        return self._call(self._array(rows) if self.tensor else self._frame(rows), params)

    def positive_scores(self, rows: list[list[Any]]) -> np.ndarray | None:
        """P(positive class) of a binary classifier for validated rows; None for other models.

        The positive class is ``classes_[1]`` (scikit-learn's convention). Monitoring calls it
        off the request path, once per flush for all new rows, so scores cost no latency.
        """
        proba = getattr(self.model, "predict_proba", None)
        classes = getattr(self.model, "classes_", None)
        if proba is None or classes is None or len(classes) != 2:
            return None
        data = self._array(rows) if self.array_mode else self._frame(rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # see _call: the columns are checked
            return np.asarray(proba(data))[:, 1]

    @staticmethod
    def encode(predictions: Any) -> bytes:
        """``{"predictions": [...]}`` as JSON bytes."""
        return orjson.dumps({"predictions": predictions}, option=orjson.OPT_SERIALIZE_NUMPY)

    # -- request parsing ---------------------------------------------------------------------
    def check_params(self, params: dict[str, Any] | None) -> dict[str, Any] | None:
        """Refuse inference ``params`` for a model whose ``predict`` cannot take them.

        Raises
        ------
        RequestError
            400 naming the fix (MLflow passes ``params`` only to a ``predict(X, params=...)``).
        """
        if params is not None and not self.accepts_params:
            raise RequestError(
                400,
                f"{self.version.ref} takes no inference {PARAMS_KEY!r} (its predict() has no "
                f"{PARAMS_KEY!r} argument); remove {PARAMS_KEY!r} from the body.",
                "INVALID_PARAMETER_VALUE",
            )
        return params

    def parse_request(
        self, route: str, content_type: str, body: bytes
    ) -> tuple[list[list[Any]], dict[str, Any] | None]:
        """Validated rows and MLflow ``params`` from a request body (JSON, or CSV).

        Raises
        ------
        RequestError
            For a body that cannot be decoded or does not match the signature.
        """
        if content_type == CSV:
            header, data = parse_csv(body)
            return self.rows_from_csv(header, data), None
        payload = parse_json(body)
        if route == "invocations":
            return self.rows_from_invocations(payload)
        return self.rows_from_list(payload, "The /predict body"), None

    def rows_from_invocations(self, payload: Any) -> tuple[list[list[Any]], dict | None]:
        """Return rows and ``params`` from an MLflow scoring payload.

        The payload has one of ``dataframe_split``, ``dataframe_records``, ``instances`` or
        ``inputs``, and optionally ``params``.
        """
        call = split_invocation(payload)
        params = self.check_params(call.params)
        key, value = call.key, call.value
        if key == "dataframe_split":
            if value.__class__ is not dict or "data" not in value:
                raise RequestError(
                    400,
                    "dataframe_split must be an object with 'columns' and 'data' (a list of rows).",
                )
            return self.rows_from_split(value.get("columns"), value["data"]), params
        if key == "dataframe_records":
            return self.rows_from_list(value, "dataframe_records"), params
        if value.__class__ is dict:  # columnar: {"col": [values...]}
            return self.rows_from_columns(value, key), params
        return self.rows_from_list(value, key), params

    def rows_from_csv(self, header: list[str], data: list[list[str]]) -> list[list[Any]]:
        """Rows from a CSV body (every value a string, converted by its column's type)."""
        return self.rows_from_split(header, data, checks=self.text_checks)

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

    def rows_from_split(
        self, columns: Any, data: Any, checks: list | None = None
    ) -> list[list[Any]]:
        """Rows from ``columns`` + ``data`` (columns may be omitted: signature order)."""
        if data.__class__ is not list or not data:
            raise RequestError(400, "'data' must be a non-empty list of rows.")
        order = None
        width = self.width
        if columns is not None and columns != self.columns:
            if columns.__class__ is not list or not all(c.__class__ is str for c in columns):
                raise RequestError(400, "'columns' must be a list of column names.")
            self._check_names(set(columns), len(columns))
            index = {c: i for i, c in enumerate(columns)}
            order = [index[c] for c in self.columns]
            width = len(columns)
        checks, rows = checks or self.checks, []
        for r, row in enumerate(data):
            if row.__class__ is not list or len(row) != width:
                names = map(clip, columns[:8]) if order is not None else self.columns[:8]
                raise invalid(
                    f"Row {r} must be an array of {width} values "
                    f"({', '.join(names)}{'...' if width > 8 else ''})."
                )
            if order is not None:
                row = [row[i] for i in order]
            rows.append([check(v, r) for check, v in zip(checks, row)])  # noqa: B905 - checked
        return rows

    def rows_from_columns(self, data: dict, what: str) -> list[list[Any]]:
        """Rows from a columnar object ``{"col": [v1, v2, ...], ...}``."""
        self._check_names(set(data), len(data))
        columns = [data[c] for c in self.columns]
        lengths = {len(v) if v.__class__ is list else -1 for v in columns}
        if len(lengths) != 1 or -1 in lengths or 0 in lengths:
            raise RequestError(
                400,
                f"In columnar {what}, every column must be a non-empty list of the same length.",
            )
        return self.rows_from_split(None, [list(r) for r in zip(*columns, strict=True)])

    def _record(self, rec: Any, r: int) -> list[Any]:
        if rec.__class__ is not dict:
            raise invalid(f"Record {r} must be an object mapping column names to values.")
        if len(rec) != self.width or not self.column_set.issuperset(rec):
            self._check_names(set(rec), len(rec), row=r)
        try:
            return [check(rec[name], r) for name, check in zip(self.columns, self.checks)]  # noqa: B905
        except KeyError:  # pragma: no cover - _check_names covers it
            raise invalid(f"Record {r} misses a column.") from None

    def _check_names(self, given: set[str], count: int, row: int | None = None) -> None:
        where = f" in record {row}" if row is not None else ""
        missing = [c for c in self.columns if c not in given]
        if missing:
            raise invalid(
                f"Missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing[:10]))}{where}; the model expects "
                f"{', '.join(map(repr, self.columns[:20]))}."
            )
        if count != len(given):
            raise invalid(f"Duplicate column names{where}; give each column once.")
        if self.lenient:  # MLflow drops the columns its schema does not name
            return
        unknown = sorted(str(c) for c in given - self.column_set)
        if unknown:
            raise invalid(
                f"Unknown column{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(clip, unknown[:10]))}{where}; the model expects "
                f"{', '.join(map(repr, self.columns[:20]))}, or deploy with --lenient to "
                "drop unknown columns."
            )


def _accepts_params(predict: Any) -> bool:
    """Whether ``predict`` takes MLflow's inference ``params`` (a ``params`` argument)."""
    try:
        return "params" in inspect.signature(predict).parameters
    except (TypeError, ValueError):  # builtins and C extensions without a signature
        return False
