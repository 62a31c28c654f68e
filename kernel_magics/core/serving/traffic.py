"""Per-minute traffic of a deployment (requests, errors, p50/p99 latency) from its request log.

The prediction log keeps every failed request and a ``sample_rate`` share of the successful
ones, so request counts are scaled back up by that rate; latency percentiles are those of the
logged requests of the minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

MINUTE_S = 60.0
#: Status codes from here on count as errors.
ERROR_STATUS = 400


def per_minute(
    rows: Sequence[tuple[float, float, int]], first: float, minutes: int, sample_rate: float
) -> list[dict[str, Any]]:
    """Bin ``(at, latency_ms, status_code)`` rows into ``minutes`` minutes from ``first``.

    Parameters
    ----------
    rows : sequence of (float, float, int)
        Logged requests (UTC epoch seconds, milliseconds, HTTP status).
    first : float
        Start of the first minute (UTC epoch seconds, on a minute boundary).
    minutes : int
        How many minutes, oldest first.
    sample_rate : float
        Share of the successful requests the log kept (0 keeps none: only errors are counted).

    Returns
    -------
    list of dict
        ``{"start", "requests", "errors", "p50_ms", "p99_ms"}`` per minute; a minute without
        logged requests has 0 requests and null latencies.
    """
    data = np.asarray(rows, dtype=float).reshape(-1, 3)
    index = np.floor((data[:, 0] - first) / MINUTE_S).astype(int)
    keep = (index >= 0) & (index < minutes)
    data, index = data[keep], index[keep]
    failed = data[:, 2] >= ERROR_STATUS
    errors = np.bincount(index[failed], minlength=minutes)
    ok = np.bincount(index[~failed], minlength=minutes)
    scaled = np.rint(ok / sample_rate) if sample_rate > 0 else np.zeros(minutes)
    out = []
    for i in range(minutes):
        latencies = data[index == i, 1]
        p50, p99 = np.percentile(latencies, [50, 99]) if latencies.size else (None, None)
        out.append(
            {
                "start": first + i * MINUTE_S,
                "requests": int(scaled[i] + errors[i]),
                "errors": int(errors[i]),
                "p50_ms": None if p50 is None else round(float(p50), 3),
                "p99_ms": None if p99 is None else round(float(p99), 3),
            }
        )
    return out
