"""Counting values against a model version's training profile, vectorized.

Every value a model server (or a batch) sees is counted, not sampled, in shapes that add up
across buckets and servers and that drift statistics compare with the training profile
(:mod:`kernel_magics.core.registry.profile`):

- numeric ``{"bins": [n, ...], "below": n, "above": n, "missing": n, "edges": [...]}``: one count
  per bin of the profile's histogram edges (the last bin includes its right edge, as in
  ``numpy.histogram``), values under the first edge / over the last one, and NaN/None; the edges
  are repeated so that a bucket explains itself (a regressor's prediction edges are not in the
  profile: see :func:`prediction_bins`);
- categorical ``{"categories": {value: n}, "unseen": n, "missing": n, "new": {value: n}}``: one
  count per category the profile lists (values are compared as strings, as the profile stores
  them), ``unseen`` for every other value (which is also where the profile's ``"__other__"``
  share, if any, lands), ``missing`` for None/NaN. ``new`` names up to :data:`MAX_NEW_NAMED` of
  the unseen values with their counts, for people to read; analyses use ``unseen``.

Latency is counted over fixed log-spaced millisecond edges (:data:`LATENCY_EDGES_MS`).

Counting works on whole columns with numpy/pandas: the collector calls it once per flush for all
the rows gathered since the previous one, never per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Latency histogram edges in ms: 10 per decade from 0.1 ms to 10 s (counts: one more than edges,
#: ``counts[0]`` under 0.1 ms, ``counts[i]`` in ``[edges[i-1], edges[i])``, ``counts[-1]`` >= 10 s).
LATENCY_EDGES_MS: tuple[float, ...] = tuple(float(e) for e in np.geomspace(0.1, 10_000.0, 51))
#: How many unseen categorical values a bucket names (all are counted in ``unseen``).
MAX_NEW_NAMED = 20
NUMERIC, CATEGORICAL = "numeric", "categorical"


def latency_counts(latencies_ms: Sequence[float] | np.ndarray) -> list[int]:
    """Count latencies (ms) over :data:`LATENCY_EDGES_MS`; ``len(edges) + 1`` counts."""
    idx = np.searchsorted(LATENCY_EDGES_MS, np.asarray(latencies_ms, dtype=np.float64), "right")
    return np.bincount(idx, minlength=len(LATENCY_EDGES_MS) + 1).tolist()


def latency_quantile(counts: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) of a latency histogram in ms, or None when it is empty.

    Interpolated geometrically inside the bin the quantile falls in (the edges are log-spaced);
    the open-ended first and last bins answer their one finite edge.
    """
    arr = np.asarray(counts, dtype=np.float64)
    total = arr.sum()
    if total <= 0:
        return None
    edges = np.asarray(LATENCY_EDGES_MS)
    cumulative = np.cumsum(arr)
    target = q * total
    i = int(np.searchsorted(cumulative, target, side="left"))
    i = min(i, len(arr) - 1)
    if i == 0:
        return float(edges[0])
    if i == len(arr) - 1:
        return float(edges[-1])
    before = cumulative[i - 1]
    within = (target - before) / arr[i] if arr[i] else 0.0
    lo, hi = edges[i - 1], edges[i]
    return float(lo * (hi / lo) ** min(max(within, 0.0), 1.0))


@dataclass(frozen=True)
class NumericBins:
    """Counts numeric values over fixed histogram edges (the training profile's)."""

    edges: np.ndarray
    kind: str = field(default=NUMERIC, init=False)

    @property
    def width(self) -> int:
        """How many counts :meth:`count` returns: the bins, then below, above, missing."""
        return len(self.edges) - 1 + 3

    def count(self, values: Any) -> np.ndarray:
        """Count a column of values (None and NaN are missing); see :attr:`width`."""
        x = np.asarray(values, dtype=np.float64)  # None becomes NaN
        nbins = len(self.edges) - 1
        missing = np.isnan(x)
        below = x < self.edges[0]
        above = x > self.edges[-1]
        inside = x[~(missing | below | above)]
        # side="right" - 1 puts a value equal to an inner edge in the bin it opens; the last
        # edge itself belongs to the last bin (numpy.histogram's convention).
        idx = np.clip(np.searchsorted(self.edges, inside, side="right") - 1, 0, nbins - 1)
        out = np.empty(nbins + 3, dtype=np.int64)
        out[:nbins] = np.bincount(idx, minlength=nbins)
        out[nbins:] = (int(below.sum()), int(above.sum()), int(missing.sum()))
        return out

    def empty(self) -> np.ndarray:
        """Zero counts."""
        return np.zeros(self.width, dtype=np.int64)

    def as_dict(self, counts: np.ndarray) -> dict[str, Any]:
        """The stored shape ``{"bins", "below", "above", "missing"}``."""
        nbins = len(self.edges) - 1
        below, above, missing = (int(v) for v in counts[nbins:])
        return {"bins": counts[:nbins].tolist(), "below": below, "above": above,
                "missing": missing, "edges": self.edges.tolist()}  # fmt: skip


@dataclass
class CategoryCounts:
    """Running categorical counts of one bucket (see :class:`CategoryBins`)."""

    categories: dict[str, int]
    unseen: int = 0
    missing: int = 0
    new: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CategoryBins:
    """Counts categorical values per known category, unseen ones apart."""

    known: tuple[str, ...]
    kind: str = field(default=CATEGORICAL, init=False)

    def empty(self) -> CategoryCounts:
        """Zero counts."""
        return CategoryCounts({c: 0 for c in self.known})

    def add(self, counts: CategoryCounts, values: Any) -> None:
        """Count a column of values into ``counts`` (in place)."""
        import pandas as pd

        series = pd.Series(values, dtype=object)
        na = series.isna().to_numpy()
        counts.missing += int(na.sum())
        seen = series[~na].astype(str).value_counts()
        known = counts.categories
        for value, n in seen.items():  # one step per distinct value, not per row
            value, n = str(value), int(n)
            if value in known:
                known[value] += n
                continue
            counts.unseen += n
            if value in counts.new or len(counts.new) < MAX_NEW_NAMED:
                counts.new[value] = counts.new.get(value, 0) + n

    @staticmethod
    def as_dict(counts: CategoryCounts) -> dict[str, Any]:
        """The stored shape ``{"categories", "unseen", "missing", "new"}``."""
        return {"categories": dict(counts.categories), "unseen": counts.unseen,
                "missing": counts.missing, "new": dict(counts.new)}  # fmt: skip


Bins = NumericBins | CategoryBins


def bins_for(feature_profile: dict[str, Any]) -> Bins | None:
    """The bins of one feature of a training profile (None when it has nothing to count on).

    A numeric feature without a histogram (every training value was missing) is not counted.
    """
    if feature_profile.get("kind") == CATEGORICAL:
        known = tuple(str(k) for k in feature_profile.get("frequencies", {}) if k != "__other__")
        return CategoryBins(known)
    edges = (feature_profile.get("histogram") or {}).get("edges")
    if not edges or len(edges) < 2:
        return None
    return NumericBins(np.asarray(edges, dtype=np.float64))


@dataclass(frozen=True)
class ProfileBinning:
    """How one model version's inputs and predictions are counted.

    ``features`` pairs each counted input column's position in a request row with its name and
    bins (columns the profile does not describe are not counted); ``prediction`` counts the
    predictions (None: not counted, e.g. multi-output models).
    """

    features: tuple[tuple[int, str, Bins], ...]
    prediction: Bins | None

    @classmethod
    def build(
        cls, profile: dict[str, Any] | None, columns: Sequence[str], prediction: Bins | None
    ) -> ProfileBinning:
        """Bins for ``columns`` (the request rows' order) from a version's profile."""
        described = (profile or {}).get("features", {})
        features = []
        for i, name in enumerate(columns):
            bins = bins_for(described[name]) if name in described else None
            if bins is not None:
                features.append((i, name, bins))
        return cls(tuple(features), prediction)

    def new_counts(self) -> BucketCounts:
        """Empty counts for a new bucket."""
        return BucketCounts(self)


class BucketCounts:
    """The value counts of one bucket: add whole batches of rows, read the stored shapes."""

    def __init__(self, binning: ProfileBinning):
        self.binning = binning
        self._features: list[Any] = [bins.empty() for _, _, bins in binning.features]
        pred = binning.prediction
        self._prediction: Any = pred.empty() if pred is not None else None
        self.rows = 0

    def add(self, rows: Sequence[Sequence[Any]], predictions: Any = None) -> None:
        """Count a batch of request rows (signature column order) and their predictions."""
        if not len(rows):
            return
        self.rows += len(rows)
        columns = _columns(rows, [i for i, _, _ in self.binning.features])
        for k, ((_, _, bins), values) in enumerate(
            zip(self.binning.features, columns, strict=True)
        ):
            self._features[k] = _add(bins, self._features[k], values)
        pred = self.binning.prediction
        if pred is not None and predictions is not None:
            self._prediction = _add(pred, self._prediction, predictions)

    def add_columns(self, frame: Any, predictions: Any = None) -> None:
        """Count a DataFrame's columns (by name) and their predictions (batch monitoring)."""
        self.rows += len(frame)
        for k, (_, name, bins) in enumerate(self.binning.features):
            column = frame[name]
            if isinstance(bins, NumericBins) and column.dtype.kind in "iufb":
                values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                values = column.to_numpy(dtype=object)
            self._features[k] = _add(bins, self._features[k], values)
        pred = self.binning.prediction
        if pred is not None and predictions is not None:
            self._prediction = _add(pred, self._prediction, predictions)

    def features(self) -> dict[str, dict[str, Any]]:
        """Per feature, its stored counts shape."""
        return {name: bins.as_dict(self._features[k])
                for k, (_, name, bins) in enumerate(self.binning.features)}  # fmt: skip

    def prediction(self) -> dict[str, Any] | None:
        """The predictions' stored counts shape (None when they are not counted)."""
        pred = self.binning.prediction
        if pred is None or self.rows == 0:
            return None
        return pred.as_dict(self._prediction)


def _add(bins: Bins, counts: Any, values: Any) -> Any:
    if isinstance(bins, NumericBins):
        try:
            return counts + bins.count(values)
        except (TypeError, ValueError):  # a non-numeric prediction/value: count it missing
            counts[-1] += len(values)
            return counts
    bins.add(counts, values)
    return counts


def _columns(rows: Sequence[Sequence[Any]], positions: list[int]) -> list[Any]:
    """Columns at ``positions`` of row-major data (one C-level transpose for numeric rows)."""
    if not positions:
        return []
    try:
        arr = np.asarray(rows, dtype=np.float64)
        if arr.ndim == 2:
            return [arr[:, i] for i in positions]
    except (TypeError, ValueError):  # strings among the values: go column by column
        pass
    transposed = list(zip(*rows, strict=False))
    return [transposed[i] for i in positions]


def merge_counts(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Add two stored counts shapes of the same feature (buckets into a window).

    Numeric shapes with a different number of bins (two versions' profiles) cannot be added:
    the first one is returned unchanged.
    """
    if a is None or b is None:
        return a if b is None else b
    if "bins" in a:
        if len(a["bins"]) != len(b.get("bins", ())):
            return a
        merged = {
            "bins": [x + y for x, y in zip(a["bins"], b["bins"], strict=True)],
            **{k: a.get(k, 0) + b.get(k, 0) for k in ("below", "above", "missing")},
        }
        if "edges" in a:
            merged["edges"] = a["edges"]
        return merged
    out = {
        "categories": _add_dicts(a.get("categories", {}), b.get("categories", {})),
        "unseen": a.get("unseen", 0) + b.get("unseen", 0),
        "missing": a.get("missing", 0) + b.get("missing", 0),
        "new": _add_dicts(a.get("new", {}), b.get("new", {})),
    }
    return out


def _add_dicts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for key, n in b.items():
        out[key] = out.get(key, 0) + n
    return out


def reference_rows(
    profile: dict[str, Any] | None, columns: Sequence[str], kinds: Iterable[str]
) -> list[list[Any]]:
    """Rows spanning the training data, for the range of a regressor's predictions.

    Row ``k`` puts every numeric feature at the profile's ``k``-th quantile (min, 1 %, ..., 99 %,
    max) and every categorical one at its most frequent category. Predicting on them gives
    edges for counting predictions that cover what the model predicts on training-like data.
    Integer and boolean columns are rounded to their type. Empty when the profile lacks a column.
    """
    described = (profile or {}).get("features", {})
    kinds = list(kinds)
    levels: list[list[Any]] = []
    for name, kind in zip(columns, kinds, strict=True):
        feat = described.get(name)
        if not feat:
            return []
        if feat.get("kind") == CATEGORICAL:
            freqs = feat.get("frequencies") or {}
            top = max((k for k in freqs if k != "__other__"), key=lambda k: freqs[k], default=None)
            if top is None:
                return []
            levels.append([top] * 13)
            continue
        if "min" not in feat:
            return []
        qs = [feat["min"], *feat.get("quantiles", {}).values(), feat["max"]]
        qs = (qs + [feat["max"]] * 13)[:13]
        if kind in ("integer", "long"):
            qs = [int(round(v)) for v in qs]
        elif kind == "boolean":
            qs = [bool(round(v)) for v in qs]
        levels.append(qs)
    return [list(row) for row in zip(*levels, strict=True)] if levels else []


def prediction_bins(classes: Any, reference_predictions: Any) -> Bins | None:
    """How to count a model's predictions: per class for a classifier, else numeric bins.

    Parameters
    ----------
    classes : sequence or None
        A classifier's ``classes_`` (None for a regressor).
    reference_predictions : array-like or None
        A regressor's predictions on :func:`reference_rows`; their deciles become the edges.
    """
    if classes is not None:
        return CategoryBins(tuple(str(c) for c in np.asarray(classes).tolist()))
    if reference_predictions is None:
        return None
    ref = np.asarray(reference_predictions, dtype=np.float64)
    if ref.ndim != 1 or not np.isfinite(ref).any():
        return None
    ref = ref[np.isfinite(ref)]
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)))
    if edges.size < 2:
        edges = np.array([edges[0], edges[0]])
    return NumericBins(edges)
