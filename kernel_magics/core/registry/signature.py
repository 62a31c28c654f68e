"""Model signatures: input columns and types, the output, inferred from an input example.

A signature is plain JSON, stored with the version and served by ``GET /metadata``::

    {"inputs": {"type": "columns",
                "columns": [{"name": "tenure", "type": "long"},
                            {"name": "plan", "type": "string"}]},
     "outputs": {"type": "tensor", "dtype": "int64", "shape": [-1]},
     "example": [[12, "basic"], [3, "pro"]]}

``inputs.type`` is ``columns`` (a DataFrame or mapping example: named, typed columns) or
``tensor`` (a 2-D numpy example: ``width`` unnamed values of one ``dtype``). Column types are
``double``, ``float``, ``long``, ``integer``, ``boolean``, ``string`` and ``datetime``.
``example`` keeps the first rows (in column order) so a server can smoke-test the model at start.
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import ValidationError

COLUMN_TYPES = ("double", "float", "long", "integer", "boolean", "string", "datetime")
NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})
EXAMPLE_ROWS = 5


def as_frame(example: Any):
    """Turn an input example into a pandas DataFrame or a 2-D numpy array.

    Accepts a DataFrame, a 2-D numpy array, a dict of column -> values, or a list of records.

    Raises
    ------
    ValidationError
        For anything else (the message lists what is accepted).
    """
    import numpy as np
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        frame = example
    elif isinstance(example, np.ndarray):
        if example.ndim != 2:
            raise ValidationError(
                f"input_example is a {example.ndim}-D array; give a 2-D array (rows x features), "
                "e.g. X[:5] or x.reshape(1, -1)."
            )
        if example.dtype.kind not in "biuf":
            raise ValidationError(
                f"A numpy input_example must be numeric or boolean, not {example.dtype}; give "
                "a pandas DataFrame to describe mixed column types."
            )
        return example
    elif isinstance(example, pd.Series):
        frame = example.to_frame()
    elif isinstance(example, dict) or (
        isinstance(example, list) and example and isinstance(example[0], dict)
    ):
        frame = pd.DataFrame(example)
    else:
        raise ValidationError(
            "input_example must be a pandas DataFrame, a 2-D numpy array, a dict of columns or a "
            f"list of records, not {type(example).__name__}."
        )
    if len(frame) == 0:
        raise ValidationError("input_example has no rows; pass at least one row of real input.")
    if len(set(map(str, frame.columns))) != frame.shape[1]:
        raise ValidationError("input_example has duplicate column names; make them unique.")
    return frame


def column_type(dtype: Any) -> str:
    """Map a pandas/numpy dtype to a signature column type.

    Raises
    ------
    ValidationError
        For dtypes a JSON request cannot carry (complex numbers, raw objects, timedeltas).
    """
    import pandas as pd

    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return "string"
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer" if dtype.itemsize <= 4 else "long"
    if kind == "f":
        return "float" if dtype.itemsize <= 4 else "double"
    if kind == "M":
        return "datetime"
    raise ValidationError(
        f"Column dtype {dtype} cannot be described in a signature; convert it to numbers, "
        "strings, booleans or datetimes before logging the model."
    )


def _json_value(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def infer_signature(example: Any, output: Any = None) -> dict[str, Any]:
    """Build the signature of a model from its input example (and its output on that example).

    Parameters
    ----------
    example : DataFrame, ndarray, dict or list of records
        What the model is called with.
    output : array-like, optional
        The model's prediction on the example (describes ``outputs``).

    Returns
    -------
    dict
        ``{"inputs": ..., "outputs": ..., "example": [...]}`` (see the module docstring).
    """
    import numpy as np

    data = as_frame(example)
    if isinstance(data, np.ndarray):
        inputs: dict[str, Any] = {
            "type": "tensor",
            "dtype": str(data.dtype),
            "width": int(data.shape[1]),
        }
        rows = [[_json_value(v) for v in row] for row in data[:EXAMPLE_ROWS].tolist()]
    else:
        columns = [
            {"name": str(name), "type": column_type(dtype)} for name, dtype in data.dtypes.items()
        ]
        inputs = {"type": "columns", "columns": columns}
        head = data.head(EXAMPLE_ROWS)
        rows = [[_json_value(v) for v in row] for row in head.itertuples(index=False, name=None)]
    signature: dict[str, Any] = {"inputs": inputs, "outputs": None, "example": rows}
    if output is not None:
        out = np.asarray(output)
        signature["outputs"] = {
            "type": "tensor",
            "dtype": str(out.dtype),
            "shape": [-1, *out.shape[1:]],
        }
    return signature


def column_names(signature: dict[str, Any]) -> list[str] | None:
    """Return the input column names of a ``columns`` signature (None for a tensor)."""
    inputs = signature["inputs"]
    if inputs["type"] == "columns":
        return [c["name"] for c in inputs["columns"]]
    return None


def example_input(signature: dict[str, Any]):
    """Rebuild the stored example rows as the model's input (DataFrame or ndarray)."""
    import numpy as np
    import pandas as pd

    inputs = signature["inputs"]
    rows = signature.get("example") or []
    if inputs["type"] == "tensor":
        return np.asarray(rows, dtype=inputs["dtype"]).reshape(-1, inputs["width"])
    frame = pd.DataFrame(rows, columns=[c["name"] for c in inputs["columns"]])
    for col in inputs["columns"]:
        frame[col["name"]] = frame[col["name"]].astype(pandas_dtype(col["type"]))
    return frame


def pandas_dtype(column_type: str) -> str:
    """Return the pandas dtype a signature column type is rebuilt as."""
    return {
        "double": "float64",
        "float": "float32",
        "long": "int64",
        "integer": "int32",
        "boolean": "bool",
        "string": "object",
        "datetime": "datetime64[ns]",
    }[column_type]
