"""Per-column value checks: type, finiteness and range, before anything reaches the model.

A value must fit the dtype the column is rebuilt as (``long`` is int64, ``integer`` int32,
``float`` float32...). Checking the range here, on the JSON value, is what makes the numpy and
the pandas prediction paths agree: without it ``2**63`` in a ``long`` column was rounded to a
float on one path and overflowed on the other.

With ``from_text`` (CSV bodies, and the ``lenient`` deployment option) a string is converted by
the column's type first, the way MLflow's scoring server casts a request to its schema:
``"3"`` is a valid ``long``, ``"true"`` a valid ``boolean``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry.signature import pandas_dtype
from .payloads import RequestError, invalid

Check = Callable[[Any, int], Any]

EXACT_FLOAT_INTS = 2.0**53  # floats this large are not exact integers any more

TEXT_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
WANTS = {
    "double": "a number",
    "float": "a number",
    "long": "an integer",
    "integer": "an integer",
    "boolean": "true or false",
    "string": "a string",
    "datetime": "an ISO 8601 date-time string",
}
JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def kind_of(dtype: np.dtype) -> str:
    """The signature column type of a tensor's numpy dtype (``float32`` -> ``float``...)."""
    if dtype.kind == "f":
        return "float" if dtype.itemsize <= 4 else "double"
    if dtype.kind == "b":
        return "boolean"
    return "integer" if dtype.kind in "iu" and dtype.itemsize <= 4 else "long"


def checker(name: str, kind: str, dtype: np.dtype | None = None, from_text: bool = False) -> Check:
    """Return a function validating (and normalizing) one value of column ``name``.

    Parameters
    ----------
    name : str
        The column (named in error messages).
    kind : str
        Its signature type (``double``, ``long``, ``string``...).
    dtype : numpy.dtype, optional
        The dtype the value must fit (a tensor's own dtype); by default the dtype ``kind`` is
        rebuilt as (:func:`~kernel_magics.core.registry.signature.pandas_dtype`).
    from_text : bool
        Convert strings by the column type first (CSV bodies, lenient deployments).
    """
    if kind in ("string", "datetime"):

        def check_text(v: Any, row: int) -> Any:
            if v.__class__ is str:
                return v
            raise type_error(name, kind, v, row)

        return check_text
    dtype = np.dtype(dtype if dtype is not None else pandas_dtype(kind))
    check = _boolean(name) if kind == "boolean" else _number(name, kind, dtype)
    return _from_text(name, kind, check) if from_text else check


def _number(name: str, kind: str, dtype: np.dtype) -> Check:
    integral = dtype.kind in "iu"
    low: float
    high: float
    if integral:
        info = np.iinfo(dtype)
        low, high = int(info.min), int(info.max)
    else:
        high = float(np.finfo(dtype).max)
        low = -high
    wide = not integral and dtype.itemsize >= 8  # every finite float fits a float64
    what = f"{kind} ({dtype})"
    between = f"{low} and {high}" if integral else f"{low:.6g} and {high:.6g}"

    def refuse(v: Any, row: int) -> RequestError:
        """Say why a number does not fit (the fast paths below only accept)."""
        if v - v != 0.0:
            return invalid(
                f"Column {name!r} is NaN or infinite at row {row}; send a "
                f"{'integer' if integral else 'finite number'}."
            )
        if integral and v.__class__ is float:
            if not v.is_integer():
                return type_error(name, kind, v, row)
            if abs(v) >= EXACT_FLOAT_INTS:  # orjson hands integers beyond 64 bits as floats
                return invalid(
                    f"Column {name!r} at row {row} is beyond +-2**53 as a float, which "
                    f"cannot carry an exact integer; send an integer between {between}."
                )
        return invalid(
            f"Column {name!r} is out of range for {what} at row {row}; send a value between "
            f"{between}."
        )

    if integral:

        def check_integer(v: Any, row: int) -> Any:
            t = v.__class__
            if t is int:
                if low <= v <= high:  # ints compare exactly, however large
                    return v
            elif t is float:
                if v - v == 0.0 and v.is_integer() and abs(v) < EXACT_FLOAT_INTS:
                    if low <= v <= high:
                        return int(v)
            else:
                raise type_error(name, kind, v, row)
            raise refuse(v, row)

        return check_integer

    def check_float(v: Any, row: int) -> Any:
        t = v.__class__
        if t is float:
            if v - v == 0.0 and (wide or low <= v <= high):
                return v
        elif t is int:
            if low <= v <= high:
                return v
        else:
            raise type_error(name, kind, v, row)
        raise refuse(v, row)

    return check_float


def _boolean(name: str) -> Check:
    def check(v: Any, row: int) -> Any:
        if v.__class__ is bool:
            return v
        raise type_error(name, "boolean", v, row)

    return check


def _from_text(name: str, kind: str, check: Check) -> Check:
    def convert(v: Any, row: int) -> Any:
        if v.__class__ is str:
            text = v.strip()
            try:
                if kind == "boolean":
                    v = TEXT_BOOLEANS[text.lower()]
                elif kind in ("long", "integer"):
                    v = int(text) if text.lstrip("+-").isdigit() else float(text)
                else:
                    v = float(text)
            except (KeyError, ValueError):
                raise invalid(
                    f"Column {name!r} expects {WANTS[kind]} ({kind}) but got a string that is "
                    f"not one at row {row}."
                ) from None
        return check(v, row)

    return convert


def type_error(name: str, kind: str, value: Any, row: int) -> RequestError:
    """The error for a value of the wrong JSON type (names the column, never the value)."""
    if value is None:
        return invalid(f"Column {name!r} is null at row {row}; every input column needs a value.")
    got = JSON_TYPES.get(value.__class__, type(value).__name__)
    return invalid(f"Column {name!r} expects {WANTS[kind]} ({kind}) but got {got} at row {row}.")
