"""Accuracy from ground truth that arrives later: scikit-learn metrics over labelled predictions.

The labelled rows come from :meth:`MonitoringRepository.labelled
<kernel_magics.core.store.monitoring.MonitoringRepository.labelled>` (predictions joined to
their labels by request id). Whether a model is a classifier or a regressor is read from the
values: labels and predictions that are strings or booleans, or whole numbers with at most
:data:`MAX_CLASSES` distinct values, are classes; anything else is a regression target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Whole-number targets with more distinct values than this are treated as regression.
MAX_CLASSES = 20

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse", "r2")


def is_classification(labels: Sequence[Any], predictions: Sequence[Any]) -> bool:
    """True when the labels and predictions look like classes (see the module docstring)."""
    values = [*labels, *predictions]
    if any(isinstance(v, (str, bool)) for v in values):
        return True
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return True
    return all(n.is_integer() for n in numbers) and len(set(numbers)) <= MAX_CLASSES


def _classes(values: Sequence[Any]) -> list[Any]:
    # 1 and 1.0 and "1" from JSON round trips must be the same class
    out = []
    for v in values:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(str(v))
    return out


def accuracy_metrics(
    labels: Sequence[Any],
    predictions: Sequence[Any],
    scores: Sequence[float | None] | None = None,
) -> dict[str, float | None]:
    """Metrics of ``predictions`` against ``labels``, with ``labelled_rows``.

    Parameters
    ----------
    labels, predictions : sequence
        One label and one prediction per labelled request.
    scores : sequence of float or None, optional
        The predicted probability of the positive class, for ROC AUC (binary classifiers whose
        server logged a score for every row; None otherwise).

    Returns
    -------
    dict
        ``labelled_rows`` and, for classifiers, ``accuracy``, ``precision``, ``recall``,
        ``f1`` (binary for two classes, macro-averaged above) and ``roc_auc``; for regressors
        ``mae``, ``rmse`` and ``r2``. A metric that cannot be computed (no rows, one class
        only for ROC AUC, fewer than two rows for R²) is None.
    """
    from sklearn import metrics

    n = len(labels)
    names = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
    out: dict[str, float | None] = dict.fromkeys(names)
    out["labelled_rows"] = float(n)
    if n == 0:
        return out
    if is_classification(labels, predictions):
        y, p = _classes(labels), _classes(predictions)
        classes = sorted(set(y) | set(p))
        out["accuracy"] = float(metrics.accuracy_score(y, p))
        binary = len(classes) == 2
        # the positive class of a binary problem is the larger label ("1", "yes", "true")
        kw: dict[str, Any] = (
            {"average": "binary", "pos_label": classes[-1]} if binary else {"average": "macro"}
        )
        out["precision"] = float(metrics.precision_score(y, p, zero_division=0, **kw))
        out["recall"] = float(metrics.recall_score(y, p, zero_division=0, **kw))
        out["f1"] = float(metrics.f1_score(y, p, zero_division=0, **kw))
        if binary and scores is not None and all(s is not None for s in scores):
            if len(set(y)) == 2:
                positive = [int(v == classes[-1]) for v in y]
                out["roc_auc"] = float(metrics.roc_auc_score(positive, list(scores)))
        return out
    y_num = [float(v) for v in labels]
    p_num = [float(v) for v in predictions]
    out["mae"] = float(metrics.mean_absolute_error(y_num, p_num))
    out["rmse"] = float(metrics.root_mean_squared_error(y_num, p_num))
    out["r2"] = float(metrics.r2_score(y_num, p_num)) if n >= 2 else None
    return out
