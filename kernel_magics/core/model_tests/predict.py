"""Calling the model the way the checks need: labels, and a score that can rise or fall."""

from __future__ import annotations

from typing import Any


def labels(model: Any, frame: Any) -> list[Any]:
    """The model's predictions on ``frame`` as plain Python values."""
    import numpy as np

    out = np.asarray(model.predict(frame))
    if out.ndim > 1 and out.shape[1] == 1:
        out = out[:, 0]
    return out.tolist()


def scores(model: Any, frame: Any, label: Any = None) -> list[float]:
    """A number per row whose direction a directional check reads.

    For a classifier with ``predict_proba``: the probability of ``label`` (by default the last
    class, the positive one of a binary model). Otherwise the prediction itself (a regressor).
    """
    import numpy as np

    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(frame))
        classes = [str(c) for c in getattr(model, "classes_", range(proba.shape[1]))]
        index = proba.shape[1] - 1 if label is None else classes.index(same_label(label))
        return [float(v) for v in proba[:, index]]
    return [float(v) for v in labels(model, frame)]


def same_label(value: Any) -> str:
    """A label as compared: 1, 1.0, "1" and numpy's 1 are the same class."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def class_names(model: Any) -> list[str] | None:
    """The classes of a classifier (None for a regressor or a model that does not say)."""
    classes = getattr(model, "classes_", None)
    return None if classes is None else [same_label(c) for c in classes]
