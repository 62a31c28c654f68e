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
from .counts import latency_quantile, merge_counts
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
        ``drift.prediction`` the PSI of the predictions against their reference (see
        :func:`_prediction_reference`).
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


def _prediction_reference(
    profile: Mapping[str, Any] | None, windows: Sequence[dict[str, Any]], config: DriftConfig
) -> dict[str, Any] | None:
    """What the predictions are compared with, in a feature profile's shape.

    A profile's own ``"prediction"`` entry when it has one. Otherwise, for numeric predictions
    (counted over deciles of the model's predictions on training-like rows, see
    :func:`.counts.prediction_bins`), an equal share per bin; for classes, the class shares of
    the period's first window with enough rows (the profile holds no predicted classes).
    """
    if profile and profile.get("prediction"):
        return dict(profile["prediction"])
    seen = [w[PREDICTION] for w in windows if PREDICTION in w]
    if not seen:
        return None
    if "bins" in seen[0]:
        n = len(seen[0]["bins"])
        return {"kind": "numeric", "count": n, "missing": 0,
                "histogram": {"edges": [], "counts": [1.0] * n}}  # fmt: skip
    for counts in seen:
        classes = {str(k): float(v) for k, v in counts.get("categories", {}).items()}
        total = sum(classes.values()) + float(counts.get("unseen", 0))
        if total >= config.min_rows:
            freqs = {k: v / total for k, v in classes.items()}
            freqs["__other__"] = float(counts.get("unseen", 0)) / total
            return {"kind": "categorical", "count": int(total), "missing": 0,
                    "frequencies": freqs}  # fmt: skip
    return None


def _window_values(
    buckets: Iterable[Any],
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
            counts[name] = merge_counts(counts.get(name), c) or {}
        if b.prediction:
            counts[PREDICTION] = merge_counts(counts.get(PREDICTION), b.prediction) or {}
    values: dict[str, float | None] = dict.fromkeys(METRICS)
    values["requests"] = float(requests)
    values["errors.rate"] = errors / requests if requests else None
    if latency is not None:
        values["latency.p50_ms"] = latency_quantile(latency, 0.5)
        values["latency.p99_ms"] = latency_quantile(latency, 0.99)
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
    """
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
    summed = [_window_values(by_window.get(i, [])) for i in range(len(starts))]
    pred_reference = _prediction_reference(profile, [c for _, _, c in summed], config)
    out = []
    for i, start in enumerate(starts):
        values, rows, counts = summed[i]
        verdicts = {
            name: counts_drift(name, features[name], counts[name], config)
            for name in features
            if name in counts
        }
        pred = None
        if pred_reference is not None and PREDICTION in counts:
            pred = counts_drift(PREDICTION, pred_reference, counts[PREDICTION], config)
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
    return report(store, model_ref, since=since, until=until, window_s=window_s).windows


@dataclass(frozen=True)
class MonitorReport:
    """A model version's window summaries with what they were computed from.

    Attributes
    ----------
    model : str
        The reference as given (``churn@production``).
    version : int
        The version it resolved to.
    since, until, window_s : float
    config : DriftConfig
        The drift settings used (defaults plus the version's ``monitoring.*`` tags).
    profile : dict or None
        The version's training profile (None: no drift verdicts).
    windows : list of WindowSummary
    """

    model: str
    version: int
    since: float
    until: float
    window_s: float
    config: DriftConfig
    profile: dict[str, Any] | None
    windows: list[WindowSummary]

    @property
    def latest(self) -> WindowSummary | None:
        """The last window with data (None when no window has any)."""
        return next((w for w in reversed(self.windows) if w.rows or w.values["requests"]), None)

    def to_dict(self, with_counts: bool = False) -> dict[str, Any]:
        """JSON-ready (``mlops monitor --json``)."""
        return {
            "model": self.model,
            "version": self.version,
            "since": self.since,
            "until": self.until,
            "window_s": self.window_s,
            "drift_config": self.config.to_dict(),
            "has_profile": self.profile is not None,
            "windows": [w.to_dict(with_counts) for w in self.windows],
        }


def report(
    store: Store, model_ref: str, *, since: float, until: float, window_s: float
) -> MonitorReport:
    """Like :func:`summarize`, with the resolved version and the settings used."""
    from ..registry.records import parse_ref

    window_starts(since, until, window_s)  # bad input fails before any read
    version = store.models.get_version(parse_ref(model_ref))
    config = DriftConfig.from_tags(version.tags)
    buckets = store.monitoring.buckets(version.name, version.version, since=since, until=until)
    labelled = store.monitoring.labelled(version.name, since, until, version=version.version)
    windows = summarize_buckets(
        buckets,
        version.profile,
        since=since,
        until=until,
        window_s=window_s,
        config=config,
        labelled=labelled,
    )
    return MonitorReport(
        model_ref, version.version, since, until, window_s, config, version.profile, windows
    )


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str | float) -> float:
    """Seconds in ``30s``, ``15m``, ``1h``, ``7d``, ``2w`` (or a plain number of seconds).

    Raises
    ------
    ValidationError
        For anything else (the message shows the accepted forms).
    """
    import re

    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text))
        if not match:
            raise ValidationError(
                f"{text!r} is not a duration: write a number and a unit, e.g. 30s, 15m, 1h, 7d."
            )
        seconds = float(match.group(1)) * _UNITS.get(match.group(2) or "s", 1)
    if seconds <= 0:
        raise ValidationError(f"{text!r} is not a positive duration: use e.g. 1h or 7d.")
    return seconds
