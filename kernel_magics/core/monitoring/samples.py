"""Drift of raw live values (a scored batch, sampled requests) with scipy.stats.

The tests follow Evidently's documented default algorithm (see :mod:`.drift` for the
thresholds and the per-model settings): for a reference of at most 1,000 rows the two-sample
Kolmogorov-Smirnov test (numeric) or chi-squared (categorical), above that the Wasserstein
distance normalized by the reference's standard deviation or the Jensen-Shannon distance.

The reference is raw training values or, when only the stored profile is at hand, a sample
rebuilt from the profile's quantiles and histogram (equal-mass points of its quantile function,
as many as the profile has rows up to :data:`PROFILE_SAMPLE_POINTS`).

Large live samples (over :data:`LARGE_SAMPLE` values) are first counted over fine bins, which
is what makes a million rows take milliseconds per feature instead of seconds: the KS statistic
is then still exact (the bins are the reference's own distinct values, and the reference of a
KS test has at most 1,000 rows) with scipy's asymptotic p-value, as ``ks_2samp`` itself uses
at that size; the Wasserstein distance is scipy's, between the two weighted histograms over
:data:`WASSERSTEIN_BINS` fine bins (off by less than a bin's width, at most
:data:`MAX_BIN_WIDTH` reference standard deviations: far below the 0.1 threshold's precision).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import ValidationError
from .drift import (
    FEW_VALUES,
    P_VALUE_METHODS,
    PSI_EPSILON,
    SMALL_REFERENCE_ROWS,
    DatasetDrift,
    DriftConfig,
    FeatureDrift,
    _not_enough,
    _verdict,
    dataset_drift,
    psi,
)

#: How many points a reference rebuilt from a profile has at most.
PROFILE_SAMPLE_POINTS = 10_000
#: Live samples larger than this are counted over bins before the test.
LARGE_SAMPLE = 50_000
#: Bins of the binned Wasserstein distance.
WASSERSTEIN_BINS = 2_000
#: Equal-width Wasserstein bins are used while a bin is at most this many reference standard
#: deviations wide (the distance is divided by that deviation, so the error stays below it).
MAX_BIN_WIDTH = 0.01


def profile_sample(profile: Mapping[str, Any]) -> Any:
    """Rebuild a numeric reference sample from a stored profile (equal-mass quantile points).

    The quantile function is interpolated through the profile's minimum, its quantiles and
    its decile histogram edges, then read at ``(i + 0.5) / n``.
    """
    import numpy as np

    points: dict[float, float] = {0.0: float(profile["min"]), 1.0: float(profile["max"])}
    points.update({float(q): float(v) for q, v in profile.get("quantiles", {}).items()})
    hist = profile.get("histogram", {})
    counts = np.asarray(hist.get("counts", []), dtype="float64")
    if counts.size and counts.sum() > 0:
        cum = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
        points.update(dict(zip(cum.tolist(), map(float, hist["edges"]), strict=False)))
    qs = np.array(sorted(points))
    values = np.maximum.accumulate(np.array([points[q] for q in qs]))  # monotone
    n = int(min(max(profile.get("count", 0) - profile.get("missing", 0), 1), PROFILE_SAMPLE_POINTS))
    return np.interp((np.arange(n) + 0.5) / n, qs, values)


def _numeric_test(reference, current, method: str) -> float:
    import numpy as np
    from scipy import stats

    if method == "ks":
        if current.size > LARGE_SAMPLE:
            return _binned_ks(reference, current)
        return float(stats.ks_2samp(reference, current).pvalue)
    if method == "wasserstein":
        scale = float(np.std(reference)) or 1.0  # a constant reference: absolute distance
        if current.size > LARGE_SAMPLE:
            return _binned_wasserstein(reference, current) / scale
        return float(stats.wasserstein_distance(reference, current)) / scale
    if method == "psi":
        edges = np.unique(np.quantile(reference, np.linspace(0, 1, 11)))
        if edges.size < 2:
            edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
        edges[0], edges[-1] = -np.inf, np.inf
        return psi(np.histogram(reference, edges)[0], np.histogram(current, edges)[0])
    raise ValidationError(f"Method {method!r} does not apply to a numeric feature.")


def _binned_ks(reference, current) -> float:
    """Two-sample KS p-value; the statistic is exact, from counts over the reference's values.

    Between two consecutive reference values the reference's ECDF is flat while the live one
    rises, so the largest gap is at a reference value, from the left or the right: counting the
    live values below and up to each reference value gives both sides exactly. The live
    sample is sorted once and the (at most 1,000) reference values are looked up in it.
    """
    import numpy as np
    from scipy import stats

    values, ref_counts = np.unique(reference, return_counts=True)
    m, n = reference.size, current.size
    # one (SIMD) sort of the live values, then the reference values are looked up in it: a
    # million binary searches of random keys cost more than the sort (branch mispredictions)
    ordered = np.sort(current)
    cur_le = np.searchsorted(ordered, values, "right")  # live values <= v[i]
    cur_lt = np.searchsorted(ordered, values, "left")  # live values < v[i]
    ref_le = np.cumsum(ref_counts)
    ref_lt = ref_le - ref_counts
    d = max(
        float(np.max(np.abs(ref_le / m - cur_le / n))),
        float(np.max(np.abs(ref_lt / m - cur_lt / n))),
    )
    # the p-value ks_2samp itself gives at these sizes (Smirnov's asymptotic distribution)
    big, small = max(m, n), min(m, n)
    return float(np.clip(stats.kstwo.sf(d, np.round(big * small / (big + small))), 0, 1))


def _bin_counts(values, edges):
    """Counts per bin (the last bin closed), as ``numpy.histogram`` gives them.

    ``searchsorted`` over the edges is O(n log bins); ``numpy.histogram`` with uneven edges
    sorts the values first, which for a million of them costs ten times more.
    """
    import numpy as np

    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)
    return np.bincount(index, minlength=edges.size - 1)


def _binned_wasserstein(reference, current) -> float:
    """The Wasserstein distance (scipy's) between the two samples' histograms over fine bins.

    Equal-width bins over both samples' range when they are narrow (at most
    :data:`MAX_BIN_WIDTH` reference standard deviations: numpy then bins in one O(n) pass);
    otherwise (long tails) reference-quantile bins counted with ``searchsorted``. Moving mass
    within a bin is what the histogram cannot see, so the error is below a bin's width.
    """
    import numpy as np
    from scipy import stats

    low = min(float(reference.min()), float(current.min()))
    high = max(float(reference.max()), float(current.max()))
    if high <= low:
        return 0.0
    if (high - low) / WASSERSTEIN_BINS <= MAX_BIN_WIDTH * float(np.std(reference)):
        ref_w, edges = np.histogram(reference, WASSERSTEIN_BINS, (low, high))
        cur_w = np.histogram(current, WASSERSTEIN_BINS, (low, high))[0]
    else:
        inner = np.quantile(reference, np.linspace(0, 1, WASSERSTEIN_BINS + 1)[1:-1])
        edges = np.unique(np.concatenate([[low], inner, [high]]))
        ref_w, cur_w = _bin_counts(reference, edges), _bin_counts(current, edges)
    centers = (edges[:-1] + edges[1:]) / 2
    return float(stats.wasserstein_distance(centers, centers, ref_w, cur_w))


def _categorical_test(ref_freq: Mapping[str, float], cur_counts: Mapping[str, float], method):
    import numpy as np
    from scipy import stats
    from scipy.spatial import distance

    labels = sorted(set(ref_freq) | set(cur_counts), key=str)
    ref = np.array([float(ref_freq.get(k, 0.0)) for k in labels])
    cur = np.array([float(cur_counts.get(k, 0.0)) for k in labels])
    ref = ref / ref.sum()
    if method == "chisquare":
        # Goodness of fit of the live counts to the training shares (Evidently's chi-squared);
        # a category training never saw gets a tiny expected share instead of zero.
        expected = np.clip(ref, PSI_EPSILON, None)
        expected = expected / expected.sum() * cur.sum()
        return float(stats.chisquare(cur, expected).pvalue)
    if method == "jensenshannon":
        return float(distance.jensenshannon(ref, cur / cur.sum()))
    if method == "psi":
        return psi(ref, cur)
    raise ValidationError(f"Method {method!r} does not apply to a categorical feature.")


def _frequencies(values) -> dict[str, float]:
    """Counts per value, keyed by the value as a string (as profiles store categories).

    Counted before the conversion to strings: converting a million numbers first would cost
    more than the whole test.
    """
    import pandas as pd

    out: dict[str, float] = {}
    for key, n in pd.Series(values).value_counts(dropna=True).items():
        out[str(key)] = out.get(str(key), 0.0) + float(n)
    return out


def sample_drift(
    name: str,
    reference: Any,
    current: Any,
    config: DriftConfig | None = None,
    *,
    kind: str | None = None,
) -> FeatureDrift:
    """Drift of one feature's raw live values against raw training values or its profile.

    Parameters
    ----------
    name : str
    reference : array-like or dict
        Training values, or the feature's profile (see :mod:`kernel_magics.core.registry.profile`).
    current : array-like
        Live values; missing ones (NaN/None) are left out.
    config : DriftConfig, optional
    kind : str, optional
        ``numeric`` or ``categorical``; taken from the profile or the values' dtype otherwise.
    """
    import numpy as np
    import pandas as pd

    config = config or DriftConfig()
    cur = pd.Series(current).dropna()
    ref_values: Any = None
    ref_freq: dict[str, float] = {}
    if isinstance(reference, Mapping):
        kind = kind or str(reference.get("kind"))
        ref_rows = int(reference.get("count", 0) - reference.get("missing", 0))
        if kind == "numeric":
            ref_values = profile_sample(reference) if ref_rows else np.array([])
        else:
            ref_freq = {k: float(v) for k, v in reference.get("frequencies", {}).items()}
    else:
        ref_series = pd.Series(reference).dropna()
        ref_rows = len(ref_series)
        if kind is None:
            kind = "numeric" if ref_series.dtype.kind in "iufb" else "categorical"
        if kind == "numeric":
            ref_values = ref_series.to_numpy(dtype="float64")
        else:
            ref_freq = _frequencies(ref_series)
    if kind == "numeric" and np.unique(ref_values).size <= FEW_VALUES:
        # Evidently tests a numeric feature with few distinct values as categorical
        kind = "categorical"
        ref_freq = _frequencies(ref_values)
        cur = cur.astype("float64")
    small = ref_rows <= SMALL_REFERENCE_ROWS
    if kind == "numeric":
        method = config.numeric_method or ("ks" if small else "wasserstein")
    else:
        method = config.categorical_method or ("chisquare" if small else "jensenshannon")
    if len(cur) < config.min_rows or ref_rows == 0:
        return _not_enough(name, kind, method, config, len(cur))
    if kind == "numeric":
        score = _numeric_test(ref_values, cur.to_numpy(dtype="float64"), method)
    else:
        score = _categorical_test(ref_freq, _frequencies(cur), method)
    if math.isnan(score):  # e.g. KS on identical constants: nothing moved
        score = 1.0 if method in P_VALUE_METHODS else 0.0
    return _verdict(name, kind, method, score, config, len(cur))


def frame_drift(
    reference: Any,
    current: Any,
    config: DriftConfig | None = None,
    *,
    prediction: str | None = None,
    columns: Sequence[str] | None = None,
) -> DatasetDrift:
    """Drift of every column of a live frame against a training frame or a stored profile.

    Parameters
    ----------
    reference : DataFrame or dict
        The training data, or a profile (``{"rows": ..., "features": {...}}``).
    current : DataFrame
        The live rows (a scored batch, or the prediction log's sampled requests).
    config : DriftConfig, optional
    prediction : str, optional
        The column holding the model's prediction, judged apart from the features.
    columns : sequence of str, optional
        The columns to judge (every column the reference knows otherwise).

    Raises
    ------
    ValidationError
        When a column to judge is missing from either side.
    """
    config = config or DriftConfig()
    ref_features = reference["features"] if isinstance(reference, Mapping) else None
    known = list(ref_features) if ref_features is not None else list(reference.columns)
    names = list(columns) if columns is not None else known
    if prediction is not None and prediction not in names:
        names.append(prediction)
    missing = [n for n in names if n not in known or n not in current.columns]
    if missing:
        raise ValidationError(
            f"Column(s) {', '.join(map(repr, missing))} are missing from the reference or the "
            "live data: pass columns= with names both have."
        )
    verdicts = {
        n: sample_drift(n, ref_features[n] if ref_features else reference[n], current[n], config)
        for n in names
    }
    pred = verdicts.pop(prediction) if prediction is not None else None
    return dataset_drift(verdicts, pred, config)
