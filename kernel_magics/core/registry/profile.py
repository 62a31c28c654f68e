"""Training-data profiles: what each input feature looked like, for drift monitoring later.

The profile is JSON stored with the model version::

    {"rows": 5000,
     "features": {
       "tenure": {"kind": "numeric", "count": 5000, "missing": 0, "mean": 31.2, "std": 20.1,
                  "min": 0.0, "max": 72.0,
                  "quantiles": {"0.01": 1.0, "0.05": 2.0, ..., "0.99": 71.0},
                  "histogram": {"edges": [0.0, 6.0, ..., 72.0], "counts": [512, ...]}},
       "plan": {"kind": "categorical", "count": 5000, "missing": 3, "unique": 3,
                "frequencies": {"basic": 0.61, "pro": 0.30, "team": 0.09}}}}

Numeric histograms use decile edges of the training data (10 bins of ~equal mass), which is
what a population stability index (PSI) compares live inputs against; the quantiles support a
Kolmogorov-Smirnov style comparison. Categorical features keep the relative frequency of their
20 most common values (the rest are summed under ``"__other__"``).
"""

from __future__ import annotations

from typing import Any

QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
HISTOGRAM_BINS = 10
TOP_CATEGORIES = 20


def _numeric(values) -> dict[str, Any]:
    import numpy as np

    arr = np.asarray(values, dtype="float64")
    finite = arr[np.isfinite(arr)]
    out: dict[str, Any] = {
        "kind": "numeric",
        "count": int(arr.size),
        "missing": int(arr.size - finite.size),
    }
    if finite.size == 0:
        return out
    qs = np.quantile(finite, QUANTILES)
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, HISTOGRAM_BINS + 1)))
    if edges.size < 2:  # a constant feature: one bin around the value
        edges = np.array([finite[0], finite[0]])
        counts = np.array([finite.size])
    else:
        counts, edges = np.histogram(finite, bins=edges)
    out.update(
        mean=float(finite.mean()),
        std=float(finite.std()),
        min=float(finite.min()),
        max=float(finite.max()),
        quantiles={str(q): float(v) for q, v in zip(QUANTILES, qs, strict=True)},
        histogram={"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    )
    return out


def _categorical(series) -> dict[str, Any]:
    total = len(series)
    present = series.dropna()
    counts = present.astype(str).value_counts()
    top = counts.head(TOP_CATEGORIES)
    freqs = {str(k): float(v) / max(len(present), 1) for k, v in top.items()}
    rest = int(counts.iloc[TOP_CATEGORIES:].sum()) if len(counts) > TOP_CATEGORIES else 0
    if rest:
        freqs["__other__"] = rest / len(present)
    return {
        "kind": "categorical",
        "count": total,
        "missing": int(total - len(present)),
        "unique": int(len(counts)),
        "frequencies": freqs,
    }


def profile_data(data: Any) -> dict[str, Any]:
    """Profile every feature of a training frame (or 2-D array, features named ``0..n-1``).

    Parameters
    ----------
    data : DataFrame, ndarray, dict or list of records
        The data the model was trained on (or a representative sample of it).

    Returns
    -------
    dict
        ``{"rows": N, "features": {name: {...}}}`` (see the module docstring).
    """
    import numpy as np
    import pandas as pd

    from .signature import as_frame

    frame = as_frame(data)
    if isinstance(frame, np.ndarray):
        frame = pd.DataFrame(frame, columns=[str(i) for i in range(frame.shape[1])])
    features = {}
    for name in frame.columns:
        col = frame[name]
        kind = col.dtype.kind
        if kind in "iuf" and not isinstance(col.dtype, pd.CategoricalDtype):
            features[str(name)] = _numeric(col.to_numpy(dtype="float64", na_value=np.nan))
        elif kind == "b":
            features[str(name)] = _numeric(col.astype("float64"))
        else:
            features[str(name)] = _categorical(col)
    return {"rows": int(len(frame)), "features": features}
