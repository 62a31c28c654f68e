"""Batch monitoring: the statistics a model server keeps, for one scored frame.

``mlops.monitor(frame, model="churn@production")`` predicts on the frame (or takes the
predictions it is given), counts its features and predictions against the version's training
profile exactly as a model server does (:func:`.collector.binning_for`), records one ``"batch"``
bucket, and keeps the predictions by id so that labels can join later.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..names import MONITORING_BATCH
from .counts import LATENCY_EDGES_MS
from .labels import MAX_ID, format_key

if TYPE_CHECKING:
    from ..store import Store


@dataclass(frozen=True)
class BatchMonitoring:
    """What :func:`monitor` recorded.

    Attributes
    ----------
    model, version : str, int
        The version the batch was counted against.
    rows : int
        Rows counted.
    bucket_id : int
        The ``"batch"`` bucket written.
    batch_id : str
        The request id the rows were kept under when no ``id_column`` was given (row ``i``'s
        label id is then ``<batch_id>:<i>``, ``<batch_id>`` for row 0).
    ids : list of str
        Each row's label id, in frame order.
    predictions : ndarray
        The predictions (computed or given).
    """

    model: str
    version: int
    rows: int
    bucket_id: int
    batch_id: str
    ids: list[str]
    predictions: Any

    def __repr__(self) -> str:
        return (
            f"BatchMonitoring({self.model}/{self.version}, rows={self.rows}, "
            f"bucket_id={self.bucket_id})"
        )


def monitor(
    frame: Any,
    model: str,
    *,
    predictions: Any = None,
    id_column: str | None = None,
    at: float | None = None,
    allow_pickle: bool = False,
    store: Store | None = None,
) -> BatchMonitoring:
    """Record a scored batch in the model's monitoring data (drift, and accuracy once labelled).

    Parameters
    ----------
    frame : DataFrame
        The batch's input rows, with the model's feature columns (others are ignored).
    model : str
        The version that scores it: ``churn@production``, ``churn/3`` or ``churn`` (latest).
    predictions : array-like, optional
        The predictions already made for ``frame`` (one per row); predicted here when omitted.
    id_column : str, optional
        A column of unique ids (e.g. ``customer_id``) that later labels will name; without it
        rows are kept under a new batch id (see :class:`BatchMonitoring`).
    at : float, optional
        When the batch was scored (epoch seconds; now by default): the bucket's start.
    allow_pickle : bool
        Needed to load a version stored with pickle/cloudpickle.
    store : Store, optional
        The default store when omitted.

    Returns
    -------
    BatchMonitoring
        The bucket written, the rows' ids and the predictions.

    Raises
    ------
    ValidationError
        For a frame that is not a DataFrame, lacks a feature column, has a bad id column, or
        predictions whose count differs from the rows.
    ModelNotFoundError
        When the model or version does not exist.
    """
    import numpy as np
    import pandas as pd

    from ..registry import load_model_version
    from ..serving.scoring import Scorer
    from ..store import open_store
    from .collector import binning_for

    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(
            f"mlops.monitor takes a pandas DataFrame of input rows, not a {type(frame).__name__}; "
            "wrap it with pd.DataFrame(...) using the model's column names."
        )
    if len(frame) == 0:
        raise ValidationError("The frame is empty; pass the rows that were scored.")
    store = store or open_store()
    loaded = load_model_version(model, allow_pickle=allow_pickle, store=store)
    scorer = Scorer(loaded)
    missing = [c for c in scorer.columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"The frame lacks the column(s) {', '.join(map(repr, missing[:10]))} that "
            f"{loaded.version.ref} takes; it expects {', '.join(map(repr, scorer.columns[:20]))}."
        )
    inputs = frame[scorer.columns]
    data = inputs.to_numpy(dtype=scorer.dtype) if scorer.tensor else inputs
    if predictions is None:
        predictions = np.asarray(loaded.model.predict(data))
    else:
        predictions = np.asarray(predictions)
        if len(predictions) != len(frame):
            raise ValidationError(
                f"Got {len(predictions)} predictions for {len(frame)} rows; pass one per row."
            )
    ids, batch_id = _ids(frame, id_column)
    counts = binning_for(scorer).new_counts()
    counts.add_columns(inputs if not scorer.tensor else _named(data, scorer.columns), predictions)
    start = time.time() if at is None else float(at)
    version = loaded.version
    bucket_id = store.monitoring.add_bucket(
        version.id,
        source=MONITORING_BATCH,
        start=start,
        seconds=0.0,  # a batch is one instant
        requests=len(frame),
        errors=0,
        rows=len(frame),
        latency=[0] * (len(LATENCY_EDGES_MS) + 1),  # no request latency in a batch
        features=counts.features(),
        prediction=counts.prediction(),
    )
    scores = _scores(loaded.model, data)
    values = predictions.tolist()
    store.monitoring.add_predictions(
        [
            {
                "model_version_id": version.id,
                "deployment_id": None,
                "request_id": rid,
                "row": row,
                "at": start,
                "prediction": values[i],
                "score": float(scores[i]) if scores is not None else None,
            }  # fmt: skip
            for i, (rid, row) in enumerate(ids)
        ]
    )
    return BatchMonitoring(
        model=version.name,
        version=version.version,
        rows=len(frame),
        bucket_id=bucket_id,
        batch_id=batch_id,
        ids=[format_key(rid, row) for rid, row in ids],
        predictions=predictions,
    )


def _ids(frame: Any, id_column: str | None) -> tuple[list[tuple[str, int]], str]:
    batch_id = uuid.uuid4().hex
    if id_column is None:
        return [(batch_id, i) for i in range(len(frame))], batch_id
    if id_column not in frame.columns:
        raise ValidationError(
            f"The frame has no column {id_column!r}; pass id_column= one of "
            f"{', '.join(map(repr, map(str, frame.columns[:20])))}."
        )
    column = frame[id_column]
    if column.isna().any():
        raise ValidationError(f"Column {id_column!r} has missing ids; give every row an id.")
    ids = column.astype(str).str.strip()
    if not ids.is_unique:
        raise ValidationError(
            f"Column {id_column!r} has duplicate ids; labels need one id per row."
        )
    bad = ids[(ids.str.len() == 0) | (ids.str.len() > MAX_ID) | ids.str.contains(":")]
    if len(bad):
        raise ValidationError(
            f"Column {id_column!r} has ids that are empty, longer than {MAX_ID} characters or "
            "contain ':' (which separates a request id from a row number); use another column."
        )
    return [(rid, 0) for rid in ids.tolist()], batch_id


def _scores(model: Any, data: Any) -> Any:
    """Positive-class probabilities of a binary classifier (None for other models)."""
    import numpy as np

    proba = getattr(model, "predict_proba", None)
    classes = getattr(model, "classes_", None)
    if proba is None or classes is None or len(classes) != 2:
        return None
    return np.asarray(proba(data))[:, 1]


def _named(array: Any, columns: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame(array, columns=columns)
