"""The labelled data a model is measured on: a dataset version, a data file, or a DataFrame."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ValidationError
from ..store import Store

FILE_SUFFIXES = (".csv", ".tsv", ".parquet")
DATASET_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*@[A-Za-z0-9]+$")  # train@3, @latest


@dataclass
class Holdout:
    """Model inputs and labels, read and checked against the signature.

    Attributes
    ----------
    label : str
        Where it came from, for the report (``holdout@2``, ``holdout.csv``, ``DataFrame``).
    target : str
        The label column.
    inputs : DataFrame
        The model's input columns, in signature order and types.
    labels : list
        One label per row.
    """

    label: str
    target: str
    inputs: Any
    labels: list[Any]


def _read_file(path: Path):
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")


def _read(store: Store, source: Any) -> tuple[Any, str]:
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source, "DataFrame"
    text = str(source)
    path = Path(text)
    if path.suffix.lower() in FILE_SUFFIXES:
        if not path.is_file():
            raise ValidationError(f"Holdout file {path.name!r} not found; check the path.")
        return _read_file(path), path.name
    if not DATASET_REF.match(text):
        raise ValidationError(
            f"Holdout {text!r} is neither a dataset version (NAME@VERSION, e.g. holdout@2 or "
            f"holdout@latest) nor "
            f"a data file ({', '.join(FILE_SUFFIXES)})."
        )
    from ..data import load_dataset

    loaded = load_dataset(text, store=store)
    if isinstance(loaded, (str, Path)):
        loaded_path = Path(loaded)
        if loaded_path.suffix.lower() not in FILE_SUFFIXES:
            raise ValidationError(
                f"Dataset version {text!r} is not a table (CSV, TSV or Parquet); a holdout "
                "needs rows with a label column."
            )
        return _read_file(loaded_path), text
    return loaded, text


def load_holdout(
    store: Store, source: Any, signature: dict[str, Any] | None, target: str | None
) -> Holdout:
    """Read the holdout and split it into the model's inputs and the labels.

    Parameters
    ----------
    store : Store
        Where a dataset version is read from.
    source : str, path or DataFrame
        ``NAME@VERSION``, a ``.csv``/``.tsv``/``.parquet`` file, or a DataFrame.
    signature : dict or None
        The model version's signature: which columns are inputs, and their types.
    target : str, optional
        The label column; by default the one column that is not an input.

    Raises
    ------
    ValidationError
        When the data cannot be read, lacks input columns, or the label column is ambiguous.
    """
    from ..registry.signature import column_names, pandas_dtype

    frame, label = _read(store, source)
    if len(frame) == 0:
        raise ValidationError(f"Holdout {label} has no rows; give labelled rows to measure on.")
    names = column_names(signature) if signature else None
    if names is None:
        raise ValidationError(
            "Holdout metrics need a model logged with named input columns (a DataFrame "
            "input_example); this version has a tensor or no signature."
        )
    columns = [str(c) for c in frame.columns]
    missing = [c for c in names if c not in columns]
    if missing:
        raise ValidationError(
            f"Holdout {label} lacks the model's input column(s) "
            f"{', '.join(map(repr, missing[:10]))}; it has: {', '.join(columns[:20])}."
        )
    if target is None:
        others = [c for c in columns if c not in names]
        if len(others) != 1:
            found = ", ".join(others) or "none"
            raise ValidationError(
                f"Cannot tell the label column of holdout {label} (columns that are not model "
                f"inputs: {found}); name it with --target COLUMN or 'target:' in the test file."
            )
        target = others[0]
    elif target not in columns:
        raise ValidationError(
            f"Holdout {label} has no label column {target!r}; it has: {', '.join(columns[:20])}."
        )
    inputs = frame[names].copy()
    assert signature is not None
    for col in signature["inputs"]["columns"]:
        try:
            inputs[col["name"]] = inputs[col["name"]].astype(pandas_dtype(col["type"]))
        except (TypeError, ValueError):
            raise ValidationError(
                f"Holdout {label}: column {col['name']!r} does not convert to the model's type "
                f"{col['type']}; fix the data or the column."
            ) from None
    labels = frame[target].tolist()
    return Holdout(label, target, inputs, labels)
