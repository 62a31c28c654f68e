"""The sampled prediction log: requests recorded in the store, written off the request path.

A request is sampled with probability ``sample_rate`` (errors always); sampled entries go into a
bounded in-memory queue that a background thread writes to the ``prediction_log`` table in
batches once a second. The request thread only does ``random() < rate`` and a deque append; when
the queue is full, entries are dropped and counted (``mlops_prediction_log_dropped_total``)
rather than slowing predictions down. The rows reach the store through ``store.predictions``.
"""

from __future__ import annotations

import collections
import json
import logging
import random
import threading
import time
from typing import Any

from ..store import Store
from .payloads import MAX_MESSAGE as MAX_ERROR_CHARS  # an error row stays small, whoever calls

log = logging.getLogger("kernel_magics.serving")

MAX_QUEUE = 20_000
FLUSH_INTERVAL_S = 1.0
MAX_LOGGED_ROWS = 100  # inputs/outputs of a big batch are truncated to this many rows


class PredictionLogger:
    """Sample requests into the store's ``prediction_log``.

    Parameters
    ----------
    store : Store
        Where to write.
    deployment_id : int
        The deployment the entries belong to.
    model_version_id : int
        The served version.
    sample_rate : float
        Fraction of successful requests to record (0 disables them; errors are always kept).
    """

    def __init__(
        self, store: Store, deployment_id: int, model_version_id: int, sample_rate: float = 0.1
    ):
        self.store = store
        self.deployment_id = deployment_id
        self.model_version_id = model_version_id
        self.sample_rate = float(sample_rate)
        self.dropped = 0
        self.written = 0
        self._queue: collections.deque = collections.deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlops-prediction-log", daemon=True)
        self._thread.start()

    def sampled(self) -> bool:
        """Whether this (successful) request should be recorded."""
        return self.sample_rate > 0 and (
            self.sample_rate >= 1 or random.random() < self.sample_rate
        )

    def record(
        self,
        latency_ms: float,
        status: int,
        columns: list[str] | None = None,
        rows: list[list[Any]] | None = None,
        outputs: Any = None,
        error: str | None = None,
    ) -> None:
        """Queue one entry (cheap; serialization happens on the writer thread)."""
        if len(self._queue) >= MAX_QUEUE:
            self.dropped += 1
            return
        self._queue.append((time.time(), latency_ms, status, columns, rows, outputs, error))

    def _rows(self, batch: list[tuple]) -> list[dict[str, Any]]:
        out = []
        for at, latency_ms, status, columns, rows, outputs, error in batch:
            inputs = None
            if rows is not None and columns is not None:
                inputs = json.dumps(
                    [dict(zip(columns, r, strict=True)) for r in rows[:MAX_LOGGED_ROWS]]
                )
            if outputs is not None:
                outputs = json.dumps(_plain(outputs)[:MAX_LOGGED_ROWS])
            out.append(
                {
                    "deployment_id": self.deployment_id,
                    "model_version_id": self.model_version_id,
                    "at": at,
                    "latency_ms": latency_ms,
                    "status_code": status,
                    "inputs": inputs,
                    "outputs": outputs,
                    "error": error[:MAX_ERROR_CHARS] if error else error,
                }
            )
        return out

    def flush(self) -> None:
        """Write everything queued so far."""
        batch = []
        while self._queue:
            batch.append(self._queue.popleft())
        if not batch:
            return
        try:
            self.written += self.store.predictions.write(self._rows(batch))
        except Exception:  # the store is down or busy: losing samples beats failing requests
            self.dropped += len(batch)
            log.exception("Could not write %d prediction log entries", len(batch))

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL_S):
            self.flush()
        self.flush()

    def close(self) -> None:
        """Stop the writer after a last flush."""
        self._stop.set()
        self._thread.join(timeout=10)


def _plain(outputs: Any) -> list:
    if hasattr(outputs, "tolist"):
        return outputs.tolist()
    return list(outputs)
