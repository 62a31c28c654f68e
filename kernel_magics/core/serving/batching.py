"""Opportunistic micro-batching: requests that arrive together share one ``predict`` call.

A scikit-learn ``predict`` costs about the same for 1 row as for 50 (input validation
dominates), so when several requests are waiting on the event loop, the server validates each
one separately, concatenates their rows, predicts once and hands every request its slice.
Nothing waits for a batch to fill: the batch is whatever is queued when the loop gets to it, so
a lone request is predicted immediately and a busy server batches naturally. If the batched call
fails (one request's rows make the model raise), each request is predicted on its own so only
the faulty one gets the error.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .scoring import Scorer

MAX_BATCH_ROWS = 1024


class MicroBatcher:
    """Coalesce concurrent small predictions on one event loop.

    Parameters
    ----------
    scorer : Scorer
        Validates nothing here (requests arrive validated); only ``predict_rows`` is used.
    """

    def __init__(self, scorer: Scorer):
        self.scorer = scorer
        self._pending: list[tuple[list[list[Any]], asyncio.Future]] = []
        self._scheduled = False
        self.batches = 0

    async def predict(self, rows: list[list[Any]]) -> Any:
        """Predict ``rows`` (already validated), possibly together with other requests."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((rows, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run)
        return await future

    def _run(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        start = 0
        while start < len(pending):
            size, end = 0, start
            while end < len(pending) and (
                end == start or size + len(pending[end][0]) <= MAX_BATCH_ROWS
            ):
                size += len(pending[end][0])
                end += 1
            self._predict(pending[start:end])
            start = end

    def _predict(self, batch: list[tuple[list[list[Any]], asyncio.Future]]) -> None:
        self.batches += 1
        if len(batch) > 1:
            rows = [row for request_rows, _ in batch for row in request_rows]
            try:
                out = self.scorer.predict_rows(rows)
                if len(out) == len(rows):
                    offset = 0
                    for request_rows, future in batch:
                        n = len(request_rows)
                        if not future.done():
                            future.set_result(out[offset : offset + n])
                        offset += n
                    return
            except Exception:  # find the request that breaks the model: predict one by one
                pass
        for request_rows, future in batch:
            if future.done():
                continue
            try:
                future.set_result(self.scorer.predict_rows(request_rows))
            except Exception as exc:
                future.set_exception(exc)
