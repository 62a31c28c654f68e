"""Ground truth that arrives later: labels joined to kept predictions by request id.

An id names one predicted row: a request's id (the ``X-Request-Id`` the model server answered
with) for its first or only row, ``<request id>:<row>`` for row ``row`` of a multi-row request,
or the id a batch was monitored with (``mlops.monitor(frame, id_column=...)``). Every label is
stored, so one that arrives before its prediction was written still joins later; the ids that
match no kept prediction *now* are counted and reported, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import FileMissingError, ValidationError

if TYPE_CHECKING:
    from ..store import Store

#: Longest id (the length of the store's ``request_id`` columns).
MAX_ID = 64
#: How many unknown ids a report lists (all are counted).
SHOWN_UNKNOWN = 20


@dataclass(frozen=True)
class LabelReport:
    """What became of a batch of labels.

    Attributes
    ----------
    received : int
        Distinct ids labelled.
    matched : int
        Ids with a kept prediction of the model (their labels join now).
    unknown : int
        Ids with no kept prediction (stored anyway: they join if the prediction shows up).
    unknown_ids : list of str
        The first :data:`SHOWN_UNKNOWN` unknown ids.
    """

    received: int
    matched: int
    unknown: int
    unknown_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {"received": self.received, "matched": self.matched, "unknown": self.unknown,
                "unknown_ids": list(self.unknown_ids)}  # fmt: skip


def format_key(request_id: str, row: int) -> str:
    """The id of row ``row`` of a request (the request id itself for row 0)."""
    return request_id if row == 0 else f"{request_id}:{row}"


def parse_key(label_id: Any, position: int = 0) -> tuple[str, int]:
    """``(request id, row)`` from an id (``abc`` -> ``("abc", 0)``, ``abc:3`` -> ``("abc", 3)``).

    Raises
    ------
    ValidationError
        For an id that is not a string or integer, is empty, or is too long.
    """
    if hasattr(label_id, "item") and not isinstance(label_id, str):  # numpy scalars
        label_id = label_id.item()
    if isinstance(label_id, bool) or not isinstance(label_id, str | int):
        raise ValidationError(
            f"The id at position {position} is a {type(label_id).__name__}; ids are the "
            "request ids the model server answered with (strings) or a batch's id column values."
        )
    text = str(label_id).strip()
    head, sep, tail = text.rpartition(":")
    request_id, row = (head, int(tail)) if sep and head and tail.isdigit() else (text, 0)
    if not request_id or len(request_id) > MAX_ID:
        raise ValidationError(
            f"The id at position {position} is empty or longer than {MAX_ID} characters; pass "
            "the X-Request-Id values the model server answered with."
        )
    return request_id, row


def _label(value: Any, position: int) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise ValidationError(
            f"The label at position {position} is missing; drop the rows without a label first."
        )
    if not isinstance(value, bool | int | float | str):
        raise ValidationError(
            f"The label at position {position} is a {type(value).__name__}; labels are numbers, "
            "booleans or strings (the target the model predicts)."
        )
    return value


def label_rows(ids: Sequence[Any], labels: Sequence[Any]) -> list[tuple[str, int, Any]]:
    """Validated ``(request id, row, label)`` triples (a later label of the same id wins).

    Raises
    ------
    ValidationError
        For lengths that differ, no labels at all, or a bad id or label (named by position).
    """
    ids, labels = list(ids), list(labels)
    if len(ids) != len(labels):
        raise ValidationError(
            f"Got {len(ids)} ids but {len(labels)} labels; pass one label per id."
        )
    if not ids:
        raise ValidationError("No labels given; pass ids and labels of the same length.")
    out: dict[tuple[str, int], Any] = {}
    for i, (label_id, value) in enumerate(zip(ids, labels, strict=True)):
        out[parse_key(label_id, i)] = _label(value, i)
    return [(rid, row, label) for (rid, row), label in out.items()]


def record_labels(
    store: Store, model: str, ids: Sequence[Any], labels: Sequence[Any]
) -> LabelReport:
    """Validate, store and match labels of ``model``; see :func:`log_labels`."""
    rows = label_rows(ids, labels)
    matched, unknown = store.monitoring.add_labels(model, rows)
    shown: list[str] = []
    if unknown:
        keys = [(rid, row) for rid, row, _ in rows]
        missing = store.monitoring.unknown_keys(model, keys[: SHOWN_UNKNOWN * 50])
        shown = [format_key(rid, row) for rid, row in missing[:SHOWN_UNKNOWN]]
    return LabelReport(len(rows), matched, unknown, shown)


def log_labels(
    model: str,
    ids: Sequence[Any],
    labels: Sequence[Any],
    *,
    store: Store | None = None,
) -> LabelReport:
    """Join ground truth to the predictions a model server or a batch kept.

    Parameters
    ----------
    model : str
        The model (``churn``, ``churn@production``, ``churn/3``: labels belong to the model;
        whichever version predicted a row, its label joins).
    ids : sequence
        The ``X-Request-Id`` of each predicted row (``<id>:<row>`` for the rows after the
        first of a multi-row request), or the ids a batch was monitored with.
    labels : sequence
        The true value for each id (numbers, booleans or strings).
    store : Store, optional
        The default store when omitted.

    Returns
    -------
    LabelReport
        How many ids matched a kept prediction, and which did not.

    Raises
    ------
    ValidationError
        For mismatched lengths, an empty call, or a bad id or label.
    ModelNotFoundError
        When no model has that name.
    """
    from ..store import open_store

    return record_labels(store or open_store(), model, ids, labels)


def read_label_file(path: str | Path, id_column: str, label_column: str) -> tuple[list, list]:
    """Ids and labels from a CSV, Parquet or JSON-lines file (by extension; CSV otherwise).

    Ids are read as strings, so ``007`` stays ``007``.

    Raises
    ------
    FileMissingError
        When the file does not exist.
    ValidationError
        When a column is missing (the message lists the file's columns).
    """
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise FileMissingError(f"No labels file at {str(path)!r}; pass the path of a CSV file.")
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        frame = pd.read_parquet(file)
    elif suffix in (".jsonl", ".ndjson"):
        frame = pd.read_json(file, lines=True, dtype={id_column: str})
    else:
        frame = pd.read_csv(file, dtype={id_column: str})
    absent = [c for c in (id_column, label_column) if c not in frame.columns]
    if absent:
        raise ValidationError(
            f"{file.name} has no column {', '.join(map(repr, absent))}; its columns are "
            f"{', '.join(map(repr, map(str, frame.columns[:20])))} (choose with --id-column "
            "and --label-column)."
        )
    frame = frame[[id_column, label_column]].dropna(subset=[label_column])
    return frame[id_column].astype(str).tolist(), frame[label_column].tolist()


def feedback_rows(payload: Any) -> tuple[list, list]:
    """Ids and labels from a ``POST /feedback`` body.

    Accepts ``{"ids": [...], "labels": [...]}`` or ``{"rows": [{"id": ..., "label": ...}]}``.

    Raises
    ------
    ValidationError
        For any other shape.
    """
    if isinstance(payload, dict) and set(payload) == {"ids", "labels"}:
        ids, labels = payload["ids"], payload["labels"]
        if isinstance(ids, list) and isinstance(labels, list):
            return ids, labels
    if isinstance(payload, dict) and set(payload) == {"rows"} and isinstance(payload["rows"], list):
        rows = payload["rows"]
        if all(isinstance(r, dict) and set(r) == {"id", "label"} for r in rows):
            return [r["id"] for r in rows], [r["label"] for r in rows]
    raise ValidationError(
        'The /feedback body must be {"ids": [...], "labels": [...]} (two lists of the same '
        'length) or {"rows": [{"id": "...", "label": ...}, ...]}.'
    )
