"""Per-minute traffic of a deployment: requests, errors, p50/p99 latency (the panel's charts).

Two sources, in this order:

- the monitoring buckets the model server writes (:mod:`kernel_magics.core.monitoring`): every
  request counted, latencies as a histogram; a bucket reaches the store only once it closed
  (a minute by default);
- the prediction log, for the time after the newest closed bucket (and for servers without
  monitoring): every failed request and a ``sample_rate`` share of the successful ones, so its
  success counts are scaled back up by that rate.

So the current minute moves as requests arrive, and older minutes are exact once their bucket
closed. Each minute says which source it came from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..store import Store
    from ..store.deployments import DeploymentRecord

MINUTE_S = 60.0
#: Status codes from here on count as errors.
ERROR_STATUS = 400
#: The prediction log's share of successful requests when a deployment recorded no options.
DEFAULT_SAMPLE_RATE = 0.1
MONITORING, PREDICTION_LOG = "monitoring", "prediction_log"


def sample_rate_of(store: Store, dep_id: int) -> float:
    """The deployment's prediction-log sample rate (from its recorded ``options`` event)."""
    for event in store.deployments.events(dep_id):
        if event["event"] == "options" and event["detail"]:
            return float(json.loads(event["detail"]).get("sample_rate", DEFAULT_SAMPLE_RATE))
    return DEFAULT_SAMPLE_RATE


def per_minute(
    rows: Sequence[tuple[float, float, int]],
    first: float,
    minutes: int,
    sample_rate: float,
    buckets: Sequence[Any] = (),
    covered_until: float | None = None,
) -> list[dict[str, Any]]:
    """Bin logged requests (and monitoring buckets) into ``minutes`` minutes from ``first``.

    Parameters
    ----------
    rows : sequence of (float, float, int)
        Prediction-log entries (UTC epoch seconds, milliseconds, HTTP status); only those at
        or after ``covered_until`` are counted.
    first : float
        Start of the first minute (UTC epoch seconds, on a minute boundary).
    minutes : int
        How many minutes, oldest first.
    sample_rate : float
        Share of the successful requests the log kept (0 keeps none: only errors are counted).
    buckets : sequence of MonitoringBucket
        Closed monitoring buckets of the deployment; each is added to the minute it starts in.
    covered_until : float, optional
        End of the newest bucket: the log fills in only after it.

    Returns
    -------
    list of dict
        ``{"start", "requests", "errors", "p50_ms", "p99_ms", "source"}`` per minute; a minute
        without requests has 0 requests and null latencies.
    """
    from ..monitoring.counts import latency_counts, latency_quantile

    covered = first if covered_until is None else covered_until
    data = np.asarray(rows, dtype=float).reshape(-1, 3)
    data = data[data[:, 0] >= covered]
    index = np.floor((data[:, 0] - first) / MINUTE_S).astype(int)
    keep = (index >= 0) & (index < minutes)
    data, index = data[keep], index[keep]
    failed = data[:, 2] >= ERROR_STATUS
    errors = np.bincount(index[failed], minlength=minutes)
    ok = np.bincount(index[~failed], minlength=minutes)
    scaled = np.rint(ok / sample_rate) if sample_rate > 0 else np.zeros(minutes)
    from_buckets: dict[int, list[Any]] = {}
    for bucket in buckets:
        i = int((bucket.start - first) // MINUTE_S)
        if 0 <= i < minutes:
            from_buckets.setdefault(i, []).append(bucket)
    out = []
    for i in range(minutes):
        start = first + i * MINUTE_S
        latencies = data[index == i, 1]
        requests, failures = int(scaled[i] + errors[i]), int(errors[i])
        in_buckets = from_buckets.get(i, [])
        if in_buckets:  # exact counts; latency from the histograms (plus any logged rows)
            histogram = np.sum([b.latency for b in in_buckets], axis=0)
            if latencies.size:
                histogram = histogram + np.asarray(latency_counts(latencies))
            requests += sum(b.requests for b in in_buckets)
            failures += sum(b.errors for b in in_buckets)
            p50, p99 = latency_quantile(histogram, 0.5), latency_quantile(histogram, 0.99)
        elif latencies.size:
            p50, p99 = (float(v) for v in np.percentile(latencies, [50, 99]))
        else:
            p50 = p99 = None
        out.append(
            {
                "start": start,
                "requests": requests,
                "errors": failures,
                "p50_ms": None if p50 is None else round(p50, 3),
                "p99_ms": None if p99 is None else round(p99, 3),
                "source": MONITORING if start + MINUTE_S <= covered else PREDICTION_LOG,
            }
        )
    return out


def deployment_traffic(
    store: Store, dep: DeploymentRecord, minutes: int, now: float | None = None
) -> dict[str, Any]:
    """The last ``minutes`` minutes of a deployment's traffic, oldest first.

    Returns
    -------
    dict
        ``deployment_id``, ``source`` (``monitoring`` when the server wrote buckets in the
        window, else ``prediction_log``), ``sample_rate`` and ``minutes`` (see
        :func:`per_minute`).
    """
    now = time.time() if now is None else now
    first = (now // MINUTE_S - (minutes - 1)) * MINUTE_S
    buckets = [
        b
        for b in store.monitoring.buckets(dep.model, since=first, deployment_id=dep.id)
        if b.source == "serving"
    ]
    covered = max((b.end for b in buckets), default=None)
    sample_rate = sample_rate_of(store, dep.id)
    rows = store.deployments.requests_since(dep.id, covered if covered is not None else first)
    return {
        "deployment_id": dep.id,
        "source": MONITORING if buckets else PREDICTION_LOG,
        "sample_rate": sample_rate,
        "minutes": per_minute(rows, first, minutes, sample_rate, buckets, covered),
    }
