"""The model server's monitoring collector: every request counted per time bucket.

The request path only appends one tuple to a deque (no lock, no numpy, no database). A
background thread wakes every :data:`FLUSH_INTERVAL_S` (and right after each bucket ends),
takes everything queued, counts it into the open bucket(s) with whole-column numpy/pandas calls
(:mod:`.counts`), keeps the predictions by request id (one batched ``predict_proba`` for the
classifier scores, one multi-row INSERT), and writes each bucket to the store once it closes.
Buckets are aligned on multiples of ``bucket_seconds`` since the epoch, so two servers (or a
server and its restart) produce rows with the same ``start`` that readers add up.

What a crash can lose: the open bucket's counts (at most ``bucket_seconds``) and the
predictions of the last flush interval. A normal shutdown (:meth:`MonitoringCollector.close`)
writes the open bucket too.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..names import MONITORING_SERVING
from .counts import LATENCY_EDGES_MS, BucketCounts, ProfileBinning, latency_counts

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("kernel_magics.serving")

DEFAULT_BUCKET_SECONDS = 60.0
FLUSH_INTERVAL_S = 1.0
#: How long after a bucket's end it is written (requests finishing right at the end get in).
BOUNDARY_SLACK_S = 0.02
#: Observations waiting for the background thread; beyond this they are dropped and counted
#: (the writer is far behind: a full store), rather than growing the server's memory.
MAX_PENDING = 500_000

ScoreFn = Callable[[list[list[Any]]], Any]


@dataclass
class _OpenBucket:
    start: float
    counts: BucketCounts
    requests: int = 0
    errors: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_EDGES_MS) + 1))


class MonitoringCollector:
    """Aggregate one server's requests into buckets and keep its predictions by request id.

    Parameters
    ----------
    store : Store
        Where closed buckets and kept predictions are written.
    model_version_id : int
        The served version.
    binning : ProfileBinning
        How inputs and predictions are counted (from the version's training profile).
    deployment_id : int, optional
        The deployment the buckets belong to.
    bucket_seconds : float
        Bucket length (60 s by default).
    score : callable, optional
        ``score(rows) -> array`` of positive-class probabilities (classifiers with
        ``predict_proba``), called once per flush for all new rows.
    clock : callable
        Epoch seconds (tests inject time).
    start_thread : bool
        False leaves flushing to the caller (tests).
    """

    def __init__(
        self,
        store: Store,
        model_version_id: int,
        binning: ProfileBinning,
        *,
        deployment_id: int | None = None,
        bucket_seconds: float = DEFAULT_BUCKET_SECONDS,
        score: ScoreFn | None = None,
        clock: Callable[[], float] = time.time,
        start_thread: bool = True,
    ):
        if not bucket_seconds > 0:
            raise ValueError(f"bucket_seconds must be positive, not {bucket_seconds}")
        self.store = store
        self.model_version_id = model_version_id
        self.deployment_id = deployment_id
        self.binning = binning
        self.bucket_seconds = float(bucket_seconds)
        self.score = score
        self.clock = clock
        self.dropped = 0
        self.buckets_written = 0
        self.predictions_written = 0
        self._pending: collections.deque = collections.deque()
        self._open: dict[float, _OpenBucket] = {}
        self._lock = threading.Lock()  # one flusher at a time (thread, /feedback, close)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if start_thread:
            self._thread = threading.Thread(target=self._run, name="mlops-monitoring", daemon=True)
            self._thread.start()

    # -- the request path ----------------------------------------------------------------------
    def observe(
        self,
        request_id: str,
        latency_ms: float,
        status: int,
        rows: list[list[Any]] | None = None,
        predictions: Any = None,
    ) -> None:
        """Queue one request (cheap: an append; everything else happens on the flush)."""
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append((self.clock(), request_id, latency_ms, status, rows, predictions))

    # -- the background side -------------------------------------------------------------------
    def flush(self, close_all: bool = False) -> None:
        """Count what is queued, keep its predictions, write the buckets that have closed.

        Parameters
        ----------
        close_all : bool
            Write the open bucket(s) too (shutdown).
        """
        with self._lock:
            now = self.clock()
            batch = []
            pending = self._pending
            while pending:
                batch.append(pending.popleft())
            if batch:
                self._count(batch)
            for start in sorted(self._open):
                if close_all or start + self.bucket_seconds <= now:
                    if not self._write(self._open[start]):
                        break  # the store is unavailable: keep it, retry on the next flush
                    del self._open[start]

    def flush_predictions(self) -> None:
        """Keep the queued predictions now (labels about to be joined need them)."""
        self.flush()

    def _count(self, batch: list[tuple]) -> None:
        groups: dict[float, list[tuple]] = {}
        size = self.bucket_seconds
        for item in batch:
            groups.setdefault(math.floor(item[0] / size) * size, []).append(item)
        kept: list[dict[str, Any]] = []
        for start, items in groups.items():
            bucket = self._open.get(start)
            if bucket is None:
                bucket = self._open[start] = _OpenBucket(start, self.binning.new_counts())
            bucket.requests += len(items)
            bucket.errors += sum(1 for item in items if item[3] != 200)
            for i, n in enumerate(latency_counts([item[2] for item in items])):
                bucket.latency[i] += n
            rows, predictions = _successful(items)
            if rows:
                bucket.counts.add(rows, predictions)
                kept.extend(self._kept(items, predictions))
        if kept:
            self._add_scores(kept)
            try:
                self.predictions_written += self.store.monitoring.add_predictions(kept)
            except Exception:  # losing kept predictions beats failing or slowing requests
                self.dropped += len(kept)
                log.exception("Could not keep %d predictions", len(kept))

    def _kept(self, items: list[tuple], predictions: Any) -> list[dict[str, Any]]:
        values = predictions.tolist() if hasattr(predictions, "tolist") else list(predictions)
        out, k = [], 0
        for at, request_id, _, status, rows, _ in items:
            if status != 200 or rows is None:
                continue
            for r, row in enumerate(rows):
                out.append({"model_version_id": self.model_version_id,
                            "deployment_id": self.deployment_id, "request_id": request_id,
                            "row": r, "at": at, "prediction": values[k], "score": None,
                            "_input": row})  # fmt: skip
                k += 1
        return out

    def _add_scores(self, kept: list[dict[str, Any]]) -> None:
        inputs = [item.pop("_input") for item in kept]
        if self.score is None:
            return
        try:
            scores = self.score(inputs)
        except Exception:  # a model whose predict_proba fails on some rows: keep predictions
            log.exception("predict_proba failed; predictions are kept without scores")
            return
        if scores is None:
            return
        for item, value in zip(kept, scores.tolist(), strict=True):
            item["score"] = float(value)

    def _write(self, bucket: _OpenBucket) -> bool:
        try:
            self.store.monitoring.add_bucket(
                self.model_version_id,
                deployment_id=self.deployment_id,
                source=MONITORING_SERVING,
                start=bucket.start,
                seconds=self.bucket_seconds,
                requests=bucket.requests,
                errors=bucket.errors,
                rows=bucket.counts.rows,
                latency=bucket.latency,
                features=bucket.counts.features(),
                prediction=bucket.counts.prediction(),
            )
        except Exception:
            log.exception("Could not write the monitoring bucket starting at %s", bucket.start)
            return False
        self.buckets_written += 1
        return True

    def _next_wait(self) -> float:
        """Seconds to the next flush: the flush interval, or just past the bucket's end.

        Waking right after a bucket closes writes it at once, so a crash loses only the bucket
        that was open (not also the one that closed less than a flush interval before).
        """
        now = self.clock()
        boundary = (math.floor(now / self.bucket_seconds) + 1) * self.bucket_seconds
        return max(0.001, min(FLUSH_INTERVAL_S, boundary - now + BOUNDARY_SLACK_S))

    def _run(self) -> None:
        while not self._stop.wait(self._next_wait()):
            try:
                self.flush()
            except Exception:  # never let the collector thread die with the server still up
                log.exception("Monitoring flush failed")

    def close(self) -> None:
        """Stop the thread and write everything, the open bucket included."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush(close_all=True)


def _successful(items: Sequence[tuple]) -> tuple[list[list[Any]], Any]:
    """All rows of the successful requests, and their predictions as one array."""
    import numpy as np

    rows: list[list[Any]] = []
    parts = []
    for _, _, _, status, req_rows, preds in items:
        if status == 200 and req_rows is not None:
            rows.extend(req_rows)
            parts.append(np.asarray(preds))
    if not parts:
        return rows, None
    return rows, parts[0] if len(parts) == 1 else np.concatenate(parts)


def binning_for(scorer: Any) -> ProfileBinning:
    """How a scorer's requests are counted: its version's profile, and its kind of predictions.

    A classifier's predictions are counted per class (``classes_``); a regressor's over the
    deciles of what it predicts on the profile's quantile rows (:func:`.counts.reference_rows`).
    """
    from .counts import prediction_bins, reference_rows

    profile = scorer.version.profile
    classes = getattr(scorer.model, "classes_", None)
    reference = None
    if classes is None:
        rows = reference_rows(profile, scorer.columns, scorer.kinds)
        if rows:
            try:
                reference = scorer.predict_rows(rows)
            except Exception:  # rows the model refuses: predictions are then not binned
                log.warning("Could not predict on the profile's quantile rows", exc_info=True)
    return ProfileBinning.build(profile, scorer.columns, prediction_bins(classes, reference))


def build_collector(
    store: Store,
    scorer: Any,
    *,
    deployment_id: int | None,
    bucket_seconds: float = DEFAULT_BUCKET_SECONDS,
) -> MonitoringCollector:
    """The collector of a model server serving ``scorer`` (a :class:`~..serving.scoring.Scorer`)."""
    return MonitoringCollector(
        store,
        scorer.version.id,
        binning_for(scorer),
        deployment_id=deployment_id,
        bucket_seconds=bucket_seconds,
        score=scorer.positive_scores,
    )


#: ``off`` (or ``0``/``false``) turns the model servers' monitoring off (benchmarks compare).
MONITORING_ENV = "MLOPS_MONITORING"
#: Bucket length in seconds of the model servers started with this environment.
BUCKET_SECONDS_ENV = "MLOPS_MONITORING_BUCKET_S"


def settings_from_env(environ: dict[str, str] | None = None) -> tuple[bool, float]:
    """Whether a model server monitors, and its bucket length, from the environment.

    Raises
    ------
    ValidationError
        For a bucket length that is not a positive number of seconds.
    """
    import os

    from ...errors import ValidationError

    env = os.environ if environ is None else environ
    enabled = env.get(MONITORING_ENV, "on").strip().lower() not in ("off", "0", "false", "no")
    raw = env.get(BUCKET_SECONDS_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_BUCKET_SECONDS
    except ValueError:
        seconds = -1.0
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValidationError(
            f"{BUCKET_SECONDS_ENV} must be a positive number of seconds (e.g. 60), not {raw!r}."
        )
    return enabled, seconds
