"""Window summaries: a deployed model's traffic, latency, drift and accuracy per time window.

:func:`summarize` is the one reader every view builds on: ``mlops monitor``, ``%mlops
monitor``, ``templates/monitor.ipynb`` and the alert rules (which evaluate the latest window and
name its values by :data:`METRICS`).

Windows are aligned to multiples of ``window_s`` since the epoch (an hourly window starts on the
hour), so two calls a minute apart agree on which window a bucket is in. A bucket belongs to the
window its start falls in. The last window may be open (it ends at ``until``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from .accuracy import CLASSIFICATION_METRICS, REGRESSION_METRICS, accuracy_metrics
from .drift import DatasetDrift, DriftConfig, FeatureDrift, counts_drift, dataset_drift

if TYPE_CHECKING:
    from ..store import Store

#: Every value a window summary holds, by the name alert rules use (``accuracy < 0.85``).
METRICS: tuple[str, ...] = (
    "requests",
    "errors.rate",
    "latency.p50_ms",
    "latency.p99_ms",
    "drift.share",
    "drift.prediction",
    *CLASSIFICATION_METRICS,
    *REGRESSION_METRICS,
    "labelled_rows",
)

#: At most this many windows in one summary (a 1-minute window over a year is a mistake).
MAX_WINDOWS = 10_000

#: The key of the prediction's distribution in :attr:`WindowSummary.counts`.
PREDICTION = "prediction"


@dataclass(frozen=True)
class WindowSummary:
    """One window of one model version's monitoring data.

    Attributes
    ----------
    start, end : float
        Epoch seconds; the window is ``[start, end)``.
    rows : int
        Rows scored in the window (a request can carry many).
    enough_data : bool
        Whether ``rows`` reaches the model's ``min_rows`` (drift verdicts are None otherwise).
    values : dict of str to float or None
        One value per name in :data:`METRICS`; None when it cannot be known (no requests, no
        labels, not enough data). ``drift.share`` is the share of drifted features;
        ``drift.prediction`` the PSI of the prediction's distribution against training.
    features : dict of str to FeatureDrift
        Each input feature's verdict.
    prediction : FeatureDrift or None
        The prediction's verdict (None when the profile has no prediction distribution).
    counts : dict
        The window's summed counts per feature (and :data:`PREDICTION`), in the shapes of
        :mod:`kernel_magics.core.monitoring.counts`, for training-vs-live histograms.
    """

    start: float
    end: float
    rows: int
    enough_data: bool
    values: dict[str, float | None]
    features: dict[str, FeatureDrift] = field(default_factory=dict)
    prediction: FeatureDrift | None = None
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def drifted_features(self) -> list[str]:
        """Names of the features that drifted in this window."""
        return [n for n, f in self.features.items() if f.drifted]

    def to_dict(self, with_counts: bool = False) -> dict[str, Any]:
        """JSON-ready (the raw counts only when asked: they are large)."""
        out: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "rows": self.rows,
            "enough_data": self.enough_data,
            "values": dict(self.values),
            "drifted_features": self.drifted_features,
            "features": {n: f.to_dict() for n, f in self.features.items()},
            "prediction": self.prediction.to_dict() if self.prediction else None,
        }
        if with_counts:
            out["counts"] = self.counts
        return out


# -- adding counts up -------------------------------------------------------------------------
def merge_counts(total: dict[str, Any] | None, more: Mapping[str, Any]) -> dict[str, Any]:
    """Add one bucket's counts of a feature to a running total (numeric or categorical)."""
    if total is None:
        total = {k: (dict(v) if isinstance(v, Mapping) else list(v) if isinstance(v, list) else v)
                 for k, v in more.items()}  # fmt: skip
        return total
    for key, value in more.items():
        if isinstance(value, list):
            old = total.get(key) or [0] * len(value)
            if len(old) != len(value):
                raise ValidationError(
                    "Two buckets of one model version count a feature over different bins; "
                    "the version's profile changed under a running server: redeploy it."
                )
            total[key] = [a + b for a, b in zip(old, value, strict=True)]
        elif isinstance(value, Mapping):
            into = total.setdefault(key, {})
            for k, n in value.items():
                into[k] = into.get(k, 0) + n
        else:
            total[key] = total.get(key, 0) + value
    return total


def latency_quantile(counts: Sequence[float], edges: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) of latencies counted over ``edges`` (linear within a bin).

    ``counts`` has one entry per interval between edges plus one below the first edge and one
    above the last (the shape :mod:`.counts` writes); a quantile that falls in the open top
    bin is reported as the last edge (a lower bound).
    """
    total = float(sum(counts))
    if total <= 0:
        return None
    bounds = [0.0, *edges, float(edges[-1])]
    target = q * total
    seen = 0.0
    for i, n in enumerate(counts):
        if n and seen + n >= target:
            low, high = bounds[i], bounds[i + 1]
            return float(low + (high - low) * (target - seen) / n)
        seen += n
    return float(edges[-1])


# -- the summary ------------------------------------------------------------------------------
def window_starts(since: float, until: float, window_s: float) -> list[float]:
    """Aligned window starts covering ``[since, until)``.

    Raises
    ------
    ValidationError
        When the period is empty or would need more than :data:`MAX_WINDOWS` windows.
    """
    if not window_s > 0 or not math.isfinite(window_s):
        raise ValidationError("The window must be a positive duration, e.g. --window 1h.")
    if not until > since:
        raise ValidationError("The period is empty: --since must lie before now (e.g. 7d).")
    first = math.floor(since / window_s) * window_s
    count = math.ceil((until - first) / window_s)
    if count > MAX_WINDOWS:
        raise ValidationError(
            f"{count} windows is too many (at most {MAX_WINDOWS}): use a longer --window or a "
            "shorter --since."
        )
    return [first + i * window_s for i in range(count)]


def _prediction_profile(profile: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if not profile:
        return None
    return profile.get("prediction")


def _window_values(
    buckets: Iterable[Any], edges: Sequence[float]
) -> tuple[dict[str, float | None], int, dict[str, dict[str, Any]]]:
    requests = errors = rows = 0
    latency: list[float] | None = None
    counts: dict[str, dict[str, Any]] = {}
    for b in buckets:
        requests += b.requests
        errors += b.errors
        rows += b.rows
        latency = (
            b.latency
            if latency is None
            else [x + y for x, y in zip(latency, b.latency, strict=True)]
        )
        for name, c in b.features.items():
            counts[name] = merge_counts(counts.get(name), c)
        if b.prediction:
            counts[PREDICTION] = merge_counts(counts.get(PREDICTION), b.prediction)
    values: dict[str, float | None] = dict.fromkeys(METRICS)
    values["requests"] = float(requests)
    values["errors.rate"] = errors / requests if requests else None
    if latency is not None:
        values["latency.p50_ms"] = latency_quantile(latency, edges, 0.5)
        values["latency.p99_ms"] = latency_quantile(latency, edges, 0.99)
    return values, rows, counts


def summarize_buckets(
    buckets: Sequence[Any],
    profile: Mapping[str, Any] | None,
    *,
    since: float,
    until: float,
    window_s: float,
    config: DriftConfig | None = None,
    labelled: Sequence[Any] = (),
    latency_edges: Sequence[float] | None = None,
) -> list[WindowSummary]:
    """Window summaries of already-read buckets (:func:`summarize` reads them from a store).

    Parameters
    ----------
    buckets : sequence of MonitoringBucket
    profile : dict or None
        The model version's training profile (no drift verdicts without one).
    since, until, window_s : float
        The period (epoch seconds) and the window length (seconds).
    config : DriftConfig, optional
    labelled : sequence
        Labelled predictions (``at``, ``prediction``, ``score``, ``label``) for accuracy.
    latency_edges : sequence of float, optional
        The latency histogram's edges in ms (:data:`.counts.LATENCY_EDGES_MS` by default).
    """
    if latency_edges is None:
        from .counts import LATENCY_EDGES_MS

        latency_edges = LATENCY_EDGES_MS
    config = config or DriftConfig()
    starts = window_starts(since, until, window_s)
    by_window: dict[int, list[Any]] = {}
    for b in buckets:
        if since <= b.start < until:
            by_window.setdefault(int((b.start - starts[0]) // window_s), []).append(b)
    labels_by_window: dict[int, list[Any]] = {}
    for row in labelled:
        if since <= row.at < until:
            labels_by_window.setdefault(int((row.at - starts[0]) // window_s), []).append(row)
    features = (profile or {}).get("features", {})
    pred_profile = _prediction_profile(profile)
    out = []
    for i, start in enumerate(starts):
        values, rows, counts = _window_values(by_window.get(i, []), latency_edges)
        verdicts = {
            name: counts_drift(name, features[name], counts[name], config)
            for name in features
            if name in counts
        }
        pred = None
        if pred_profile is not None and PREDICTION in counts:
            pred = counts_drift(PREDICTION, pred_profile, counts[PREDICTION], config)
        verdict: DatasetDrift = dataset_drift(verdicts, pred, config)
        values["drift.share"] = verdict.share
        values["drift.prediction"] = pred.score if pred is not None else None
        window_labels = labels_by_window.get(i, [])
        values.update(
            accuracy_metrics(
                [r.label for r in window_labels],
                [r.prediction for r in window_labels],
                [r.score for r in window_labels],
            )
        )
        out.append(
            WindowSummary(
                start=start,
                end=min(start + window_s, until),
                rows=rows,
                enough_data=rows >= config.min_rows,
                values=values,
                features=verdicts,
                prediction=pred,
                counts=counts,
            )
        )
    return out


def summarize(
    store: Store, model_ref: str, *, since: float, until: float, window_s: float
) -> list[WindowSummary]:
    """Summaries of ``model_ref``'s monitoring data per window of ``window_s`` seconds.

    The reference resolves to one version (``churn@production`` to the version the alias
    points at now, a bare name to the latest version); its buckets (serving and batch) are
    compared with its training profile, with the drift settings of its ``monitoring.*`` tags.

    Parameters
    ----------
    store : Store
    model_ref : str
        ``churn``, ``churn/3`` or ``churn@production``.
    since, until : float
        The period, in epoch seconds.
    window_s : float
        The window length in seconds.

    Raises
    ------
    ValidationError
        For a malformed reference or period; ModelNotFoundError for an unknown model.
    """
    from ..registry.records import parse_ref

    ref = parse_ref(model_ref)
    version = store.models.get_version(ref)
    config = DriftConfig.from_tags(version.tags)
    window_starts(since, until, window_s)  # bad input fails before any read
    buckets = store.monitoring.buckets(version.name, version.version, since=since, until=until)
    labelled = store.monitoring.labelled(version.name, since, until)
    labelled = [r for r in labelled if getattr(r, "version", version.version) == version.version]
    return summarize_buckets(
        buckets,
        version.profile,
        since=since,
        until=until,
        window_s=window_s,
        config=config,
        labelled=labelled,
    )
