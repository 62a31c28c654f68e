"""What drives a model's predictions: permutation importance on its holdout, with scikit-learn.

:func:`sklearn.inspection.permutation_importance` shuffles one feature at a time and measures how
much the model's score drops. With a labelled holdout (``--holdout NAME@V`` or a data file, read
by :func:`kernel_magics.core.model_tests.holdout.load_holdout`) the score is the model's own
``score`` against the labels. Without one, the holdout is the input example stored with the
version and the "labels" are the model's own predictions on it: the drop then measures how much
each feature moves the predictions (fidelity), which is what a card reader asks, but on a few
rows only; the card says which it was.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store

#: Shuffles per feature (scikit-learn's default is 5; the card is computed once, so afford 10).
REPEATS = 10
#: Fixed, so that a card computed twice from the same holdout shows the same figures.
SEED = 0


def _features(signature: dict[str, Any] | None, inputs: Any) -> list[str]:
    columns = getattr(inputs, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    width = (signature or {}).get("inputs", {}).get("width") or inputs.shape[1]
    return [f"x{i}" for i in range(int(width))]


def compute_importance(
    store: Store, ref: str, holdout: str | None = None, target: str | None = None
) -> dict[str, Any]:
    """Permutation importance of model version ``ref`` on its holdout.

    Parameters
    ----------
    store : Store
    ref : str
        ``churn/7``.
    holdout : str, optional
        A labelled dataset version ``NAME@V`` or a CSV/Parquet file; the stored input example
        (scored against the model's own predictions) when omitted.
    target : str, optional
        The holdout's label column (by default its one column that is not a model input).

    Returns
    -------
    dict
        ``holdout``, ``rows``, ``target``, ``scoring``, ``baseline_score`` and ``features``
        (``name``, ``mean``, ``std``; largest first); or ``holdout`` and ``error`` when the
        model cannot be scored (not a scikit-learn estimator, no example stored).

    Raises
    ------
    ValidationError
        For a holdout that cannot be read or does not fit the signature (before any scoring).
    """
    import numpy as np

    from ..registry import load_model_version
    from ..registry.records import parse_ref

    version = store.models.get_version(parse_ref(ref))
    if holdout is not None:
        from ..model_tests.holdout import load_holdout

        data = load_holdout(store, holdout, version.signature, target)
        inputs, label, target_name = data.inputs, data.label, data.target
        labels: Any = np.asarray(data.labels)
    else:
        from ..registry.signature import example_input

        if not version.signature or not version.signature.get("example"):
            return {"holdout": "input example", "error": "no input example is stored with "
                    "this version; pass --holdout NAME@VERSION (labelled data)."}  # fmt: skip
        inputs, label, target_name = example_input(version.signature), "input example", None
        labels = None
    loaded = load_model_version(version.ref, store=store)
    model = loaded.model
    from ..extras import missing

    if missing("sklearn", "sklearn"):
        return {
            "holdout": label,
            "error": 'it needs scikit-learn: pip install "jupyter-mlops[sklearn]".',
        }
    if not (hasattr(model, "fit") and hasattr(model, "score")):
        reason = (
            f"{type(model).__name__} is not a scikit-learn estimator (it needs fit and score), "
            "so permutation importance does not apply."
        )
        return {"holdout": label, "error": reason}
    if labels is None:
        labels = np.asarray(model.predict(inputs))
    from sklearn.base import is_classifier
    from sklearn.inspection import permutation_importance

    baseline = float(model.score(inputs, labels))
    result = permutation_importance(
        model, inputs, labels, n_repeats=REPEATS, random_state=SEED, n_jobs=1
    )
    names = _features(version.signature, inputs)
    features: list[dict[str, Any]] = [
        {"name": n, "mean": float(m), "std": float(s)}
        for n, m, s in zip(names, result.importances_mean, result.importances_std, strict=True)
        if math.isfinite(m)
    ]
    features.sort(key=lambda f: -float(f["mean"]))
    scorer = "accuracy" if is_classifier(model) else "r2"  # what estimator.score() computes
    return {
        "holdout": label,
        "rows": int(len(inputs)),
        "target": target_name or "the model's own predictions",
        "scoring": scorer,
        "baseline_score": baseline,
        "repeats": REPEATS,
        "features": features,
    }
