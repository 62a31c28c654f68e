"""The model server's side of a challenger: shadow queue, canary split, counts and guards.

The request path does as little as possible: a canary decision is one CRC32 of the request id
compared with a threshold (sticky: the same ``X-Request-Id`` always goes the same way); a
shadow request is one deque append (dropped and counted when :data:`MAX_SHADOW_QUEUE` requests
are already waiting, so a slow challenger never slows the champion). A worker thread predicts
what queued in the last :data:`SHADOW_BATCH_S` in one batched call and compares it with the
champion's answers; a flusher thread writes the counts to the store every
:data:`FLUSH_INTERVAL_S`, reads the challenger's status (so a stop or a promotion from anywhere
reaches the server), and judges the guards on the challenger's own counts. A broken guard
stops the routing first, then records and notifies.
"""

from __future__ import annotations

import bisect
import collections
import logging
import threading
import time
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import DeploymentError
from ..monitoring.counts import LATENCY_EDGES_MS, latency_quantile
from ..names import (
    CHALLENGER_ACTIVE,
    CHALLENGER_CANARY,
    CHALLENGER_ROLLED_BACK,
    CHALLENGER_STOPPED,
    GUARD_BROKEN,
)
from ..store.challengers import ChallengerRecord, ChallengerStats
from .batching import MicroBatcher
from .scoring import INLINE_ROWS

if TYPE_CHECKING:
    from ..store import Store
    from .scoring import Scorer

log = logging.getLogger("kernel_magics.serving")

#: Shadow requests waiting for the worker beyond which new ones are dropped (and counted).
MAX_SHADOW_QUEUE = 10_000
#: Seconds between two writes of the counts (and checks of status and guards). Each write is a
#: store transaction (at 0.5 s, shadow cost 10.5-10.8 % of the server's CPU per request; at 1 s,
#: 7.6-8.5 %: benchmarks/README.md); guards are judged over minutes, and a failing canary
#: challenger is answered by the champion meanwhile.
FLUSH_INTERVAL_S = 1.0
#: Seconds between two batches of the shadow worker. A predict call costs about the same for
#: one row as for fifty, so a busy server's shadow requests are predicted in a few large calls
#: (the worker woke every 2 ms before, predicted requests nearly one by one, and cost a third
#: of the throughput); counts and agreement are at most this much later.
SHADOW_BATCH_S = 0.05
#: Challenger requests needed before a guard is judged (one early error is not a rate).
GUARD_MIN_REQUESTS = 20


class ModelCounts:
    """Requests, errors and a latency histogram (ms, :data:`LATENCY_EDGES_MS`) of one model."""

    __slots__ = ("requests", "errors", "latency")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.latency = [0] * (len(LATENCY_EDGES_MS) + 1)

    def observe(self, ms: float, ok: bool = True) -> None:
        """Count one request."""
        self.requests += 1
        if not ok:
            self.errors += 1
        self.latency[bisect.bisect_right(LATENCY_EDGES_MS, ms)] += 1

    def values(self) -> dict[str, float | None]:
        """The guard metrics of these counts."""
        n = self.requests
        return {
            "requests": float(n),
            "errors.rate": self.errors / n if n else None,
            "latency.p50_ms": latency_quantile(self.latency, 0.5),
            "latency.p99_ms": latency_quantile(self.latency, 0.99),
        }


def _rows_agreeing(champion: Any, challenger: Any) -> tuple[int, int, float]:
    """(rows compared, rows with the same prediction, sum of absolute differences)."""
    a, b = np.asarray(champion), np.asarray(challenger)
    if a.shape != b.shape or a.ndim == 0:
        return 0, 0, 0.0
    same = a == b
    if same.ndim > 1:
        same = same.reshape(len(same), -1).all(axis=1)
    diff = 0.0
    if np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number):
        delta = np.abs(a.astype(np.float64) - b.astype(np.float64))
        diff = float(delta.reshape(len(delta), -1).mean(axis=1).sum())
    return len(a), int(np.count_nonzero(same)), diff


def _concatenated(predictions: list[Any]) -> np.ndarray | None:
    """The requests' predictions as one array (None when they do not stack)."""
    try:
        return np.concatenate([np.asarray(p) for p in predictions])
    except ValueError:
        return None


class ChallengerRouter:
    """One server's challenger: what the scoring path asks, and the threads behind it.

    Parameters
    ----------
    record : ChallengerRecord
        The challenger as stored (mode, share, guards, period, channels).
    scorer : Scorer
        The challenger model's scorer (smoke-tested).
    store : Store, optional
        Where counts and status changes go (None: counts stay in memory, for tests).
    deployment_id : int, optional
        The server's deployment (its counts row).
    start_threads : bool
        False leaves :meth:`work` and :meth:`flush` to the caller (tests, benchmarks).
    """

    def __init__(
        self,
        record: ChallengerRecord,
        scorer: Scorer,
        store: Store | None = None,
        deployment_id: int | None = None,
        *,
        start_threads: bool = True,
    ):
        from ..monitoring.alerts import parse_condition

        self.record = record
        self.scorer = scorer
        self.store = store
        self.deployment_id = deployment_id
        self.canary = record.mode == CHALLENGER_CANARY
        self.version_header = str(scorer.version.version).encode()
        self.threshold = int(record.share * 2**32)
        self.active = True
        self.tripped: str | None = None
        self.champion = ModelCounts()
        self.challenger = ModelCounts()
        self.compared = self.agreed = self.dropped = 0
        self.abs_diff_sum = 0.0
        self.guards = [parse_condition(g) for g in record.guards]
        # The period counts from when this server routes, not from when the challenger was
        # recorded: otherwise a server slow to start (a busy machine) judges only what is left
        # of a short guard period, and may let a broken challenger through.
        self.guard_until = max(record.started_at, time.time()) + record.guard_for_s
        self._guard_done = not self.guards
        self.batcher = MicroBatcher(scorer) if self.canary else None
        self._queue: collections.deque = collections.deque()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        if start_threads:
            targets = [self._flush_loop] if self.canary else [self._shadow_loop, self._flush_loop]
            for target in targets:
                thread = threading.Thread(target=target, name="mlops-challenger", daemon=True)
                thread.start()
                self._threads.append(thread)

    # -- the request path ----------------------------------------------------------------------
    def routes(self, rid: str) -> bool:
        """Canary: whether the challenger answers request ``rid`` (sticky per id)."""
        return self.active and zlib.crc32(rid.encode("ascii")) < self.threshold

    async def answer(self, rows: list[list[Any]]) -> Any | None:
        """Canary: the challenger's predictions for ``rows``, or None when it failed."""
        assert self.batcher is not None
        start = time.perf_counter()
        try:
            out = await self.batcher.predict(rows)
        except Exception:  # the champion answers instead: the client never sees the failure
            self.challenger.observe((time.perf_counter() - start) * 1000, ok=False)
            log.warning("Challenger %s failed on a request", self.scorer.version.ref,
                        exc_info=True)  # fmt: skip
            return None
        self.challenger.observe((time.perf_counter() - start) * 1000)
        return out

    def shadow(self, rows: list[list[Any]] | None, predictions: Any, champion_ms: float) -> None:
        """Shadow: queue a request the champion answered (``rows`` None: the champion failed)."""
        if len(self._queue) >= MAX_SHADOW_QUEUE:
            self.dropped += 1
            return
        self._queue.append((rows, predictions, champion_ms))

    def to_health(self) -> dict[str, Any] | None:
        """What ``/health`` says about the challenger (None once it no longer routes)."""
        if not self.active:
            return None
        return {"id": self.record.id, "version": self.scorer.version.version,
                "model": self.scorer.version.name, "mode": self.record.mode}  # fmt: skip

    # -- the shadow worker ---------------------------------------------------------------------
    def work(self) -> int:
        """Predict what is queued (in batches of :data:`INLINE_ROWS` rows); return requests."""
        queue, done = self._queue, 0
        while queue:
            # INLINE_ROWS: the scorer's numpy path (a bigger batch goes through a DataFrame,
            # column by column, which costs more per row than it saves in calls).
            batch, size = [], 0
            while queue and size < INLINE_ROWS:
                item = queue.popleft()
                batch.append(item)
                size += len(item[0]) if item[0] is not None else 0
            if self.active:
                self._shadow_batch(batch)
            done += len(batch)
        return done

    def _shadow_batch(self, batch: list[tuple]) -> None:
        answered = []
        for rows, predictions, ms in batch:
            self.champion.observe(ms, ok=rows is not None)
            if rows is not None:
                answered.append((rows, predictions))
        if not answered:
            return
        rows = [row for r, _ in answered for row in r]
        start = time.perf_counter()
        try:
            out = self.scorer.predict_rows(rows)
            ms = (time.perf_counter() - start) * 1000
            for _ in answered:
                self.challenger.observe(ms)
            # One comparison for the whole batch: numpy calls on each request's few rows cost
            # more than predicting them (half the shadow's cost on a saturated server).
            champion = _concatenated([p for _, p in answered])
            if champion is not None and len(champion) == len(rows):
                self._agree(champion, out)
                return
            outs, offset = [], 0
            for r, _ in answered:
                outs.append(out[offset : offset + len(r)])
                offset += len(r)
        except Exception:  # find the requests that break it: one by one
            outs = []
            for r, _ in answered:
                one = time.perf_counter()
                try:
                    outs.append(self.scorer.predict_rows(r))
                    self.challenger.observe((time.perf_counter() - one) * 1000)
                except Exception:
                    outs.append(None)
                    self.challenger.observe((time.perf_counter() - one) * 1000, ok=False)
        for (_, champion), challenger in zip(answered, outs, strict=True):
            if challenger is not None:
                self._agree(champion, challenger)

    def _agree(self, champion: Any, challenger: Any) -> None:
        n, same, diff = _rows_agreeing(champion, challenger)
        self.compared += n
        self.agreed += same
        self.abs_diff_sum += diff

    def _shadow_loop(self) -> None:
        while not self._stop.wait(SHADOW_BATCH_S):
            self.work()

    # -- counts, status and guards -------------------------------------------------------------
    def stats(self) -> ChallengerStats:
        """The cumulative counts of this server."""
        return ChallengerStats(
            champion_requests=self.champion.requests,
            champion_errors=self.champion.errors,
            challenger_requests=self.challenger.requests,
            challenger_errors=self.challenger.errors,
            compared_rows=self.compared,
            agreed_rows=self.agreed,
            dropped=self.dropped,
            abs_diff_sum=self.abs_diff_sum,
            champion_latency=list(self.champion.latency),
            challenger_latency=list(self.challenger.latency),
        )

    def broken_guards(self) -> dict[str, float]:
        """The guards whose condition no longer holds on the challenger's counts."""
        if self.challenger.requests < GUARD_MIN_REQUESTS:
            return {}
        values = self.challenger.values()
        return {
            str(c): float(v)
            for c in self.guards
            if (v := values.get(c.metric)) is not None and c.holds(v) is False
        }

    def flush(self, now: float | None = None) -> None:
        """Judge the guards, write the counts, and follow the challenger's stored status."""
        now = time.time() if now is None else now
        judging = self.active and not self._guard_done
        broken = self.broken_guards() if judging else {}
        if self.store is not None and self.deployment_id is not None:
            # Written before a rollback is recorded: whoever sees "rolled back" in the store
            # also finds the counts that broke the guard.
            self.store.challengers.save_stats(self.record.id, self.deployment_id, self.stats())
        if judging:
            if broken and now < self.guard_until:
                self.trip(broken)
            elif now >= self.guard_until:
                self._guard_done = True
                if self.store is not None:
                    self.store.challengers.guard_passed(self.record.id)
        if self.store is None:
            return
        if self.active and self.store.challengers.status(self.record.id) not in CHALLENGER_ACTIVE:
            self.active = False  # stopped or promoted elsewhere: the champion answers all
            log.info("Challenger %s no longer active: routing stopped", self.record.id)

    def trip(self, broken: dict[str, float]) -> None:
        """Stop routing to the challenger at once, then record and notify why."""
        self.active = False
        reason = "; ".join(f"guard {c} broke ({v:g})" for c, v in broken.items())
        self.tripped = reason
        log.warning("Challenger %s rolled back: %s", self.scorer.version.ref, reason)
        if self.store is None:
            return
        ended = self.store.challengers.finish(
            self.record.id, CHALLENGER_ROLLED_BACK, reason, guard_state=GUARD_BROKEN
        )
        if ended and self.record.notify:
            from .guards import notify_guard

            notify_guard(self.record.notify, {
                "event": "challenger_rolled_back", "target": self.record.target,
                "challenger": self.record.id, "version": self.scorer.version.ref,
                "mode": self.record.mode, "broken": broken, "reason": reason,
            })  # fmt: skip

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL_S):
            try:
                self.flush()
            except Exception:  # a store hiccup: keep counting, write next time
                log.exception("Could not write the challenger's counts")

    def close(self) -> None:
        """Stop the threads, predict what is queued, write the counts a last time."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        try:
            self.work()
            self.flush()
        except Exception:
            log.exception("Could not write the challenger's last counts")


def load_router(
    store: Store, challenger_id: int, champion: Scorer, deployment_id: int | None
) -> ChallengerRouter | None:
    """The router of challenger ``challenger_id`` for a server of ``champion`` (None: not active).

    A challenger started against another champion version (the alias has moved since) is
    stopped instead of loaded.

    Raises
    ------
    DeploymentError
        When the challenger's model cannot be loaded or fails on its input example.
    """
    from ..registry import load_model_version
    from .scoring import Scorer

    record = store.challengers.get(challenger_id)
    if not record.active:
        return None
    if record.champion_version_id != champion.version.id:
        store.challengers.finish(
            challenger_id,
            CHALLENGER_STOPPED,
            f"the deployment now serves {champion.version.ref}, not the champion the challenger "
            "was started against",
        )
        return None
    try:
        loaded = load_model_version(
            record.challenger_ref, allow_pickle=record.allow_pickle, store=store
        )
        scorer = Scorer(loaded, feature_name_warnings_filtered=True, lenient=champion.lenient)
    except Exception as exc:
        raise DeploymentError(
            f"Cannot run the challenger {record.challenger_ref}: {type(exc).__name__}: {exc}"
        ) from exc
    return ChallengerRouter(record, scorer, store, deployment_id)
