"""The model server's FastAPI application.

Routes: ``POST /invocations`` (MLflow scoring payloads, JSON or CSV), ``POST /predict`` (a list
of records), ``POST /feedback`` (labels for earlier predictions, by request id), ``GET /health``,
``GET /metadata``, ``GET /metrics`` (Prometheus). Every response carries ``X-Request-Id``: the
client's own when it sends a well-formed one (``[A-Za-z0-9._~-]``, at most 64 characters), a new
uuid4 hex otherwise (:mod:`.request_ids`). Client errors are JSON ``{"error_code": ...,
"message": ...}`` with 400 (malformed body), 401 (missing or wrong bearer token, when the server
has one), 413 (body over the limit), 415 (neither JSON nor CSV) or 422 (a body that does not
match the signature). ``/invocations`` answers that last case with 400,
as MLflow's scoring server does, so clients written for MLflow branch the same way. An
unexpected failure of the model is a 500 whose message names the exception type only (the
traceback goes to the log); client errors never count as model errors.

Bodies over :data:`INLINE_BODY` bytes are decoded and validated on a worker thread, so a large
request does not hold up ``/health`` or the small requests around it.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ..monitoring.collector import MonitoringCollector
from .auth import OPEN_PATHS, authorized
from .batching import MicroBatcher
from .options import DEFAULT_MAX_BODY
from .payloads import CSV, JSON, RequestError
from .predlog import PredictionLogger
from .request_ids import request_id, with_request_id
from .scoring import INLINE_ROWS, Scorer

if TYPE_CHECKING:
    from .challenger_router import ChallengerRouter

log = logging.getLogger("kernel_magics.serving")

INLINE_BODY = 64 * 1024  # bigger bodies are parsed and validated off the event loop
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServerMetrics:
    """Prometheus counters and the latency histogram of one server (its own registry)."""

    def __init__(self, model: str, version: int):
        disable_created_metrics()  # no *_created series: they double the output for nothing
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mlops_requests",
            "Prediction requests by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mlops_request_latency_seconds",
            "Prediction request latency (body read to response).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "mlops_request_errors",
            "Failed prediction requests by kind.",
            ["route", "kind"],
            registry=self.registry,
        )
        self.rows = Counter("mlops_predicted_rows", "Rows predicted.", registry=self.registry)
        self.dropped = Counter(
            "mlops_prediction_log_dropped",
            "Prediction-log samples dropped (queue full or store error).",
            registry=self.registry,
        )
        self.monitoring_dropped = Counter(
            "mlops_monitoring_dropped",
            "Monitoring observations or kept predictions dropped (queue full or store error).",
            registry=self.registry,
        )
        info = Counter(
            "mlops_model_info",
            "The served model (value is always 0).",
            ["model", "version"],
            registry=self.registry,
        )
        info.labels(model, str(version))
        self._ok = {r: self.requests.labels(r, "200") for r in ("invocations", "predict")}
        self._lat = {r: self.latency.labels(r) for r in ("invocations", "predict")}

    def ok(self, route: str, seconds: float, rows: int) -> None:
        """Count one successful request."""
        self._ok[route].inc()
        self._lat[route].observe(seconds)
        self.rows.inc(rows)

    def failed(self, route: str, seconds: float, status: int, kind: str) -> None:
        """Count one failed request."""
        self.requests.labels(route, str(status)).inc()
        self._lat[route].observe(seconds)
        self.errors.labels(route, kind).inc()


@dataclass
class ServerState:
    """What the routes share: the scorer, the metrics, the logger and the draining flag.

    ``token_digest`` is the SHA-256 of the bearer token every route but ``/health`` requires
    (None: no token); ``expose_example`` lets ``/metadata`` show the input example's rows.
    ``challenger`` runs a second model next to this one (:mod:`.challenger_router`);
    ``nonce`` is this process's own random id, which ``/health`` answers so a controller
    knows it reached *this* server (deployment ids are unique only within one store).
    """

    scorer: Scorer
    metrics: ServerMetrics
    predlog: PredictionLogger | None = None
    monitor: MonitoringCollector | None = None
    deployment_id: int | None = None
    alias: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    token_digest: bytes | None = None
    expose_example: bool = False
    draining: bool = False
    challenger: ChallengerRouter | None = None
    started_at: float = field(default_factory=time.time)
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))
    batcher: MicroBatcher = field(init=False)
    version_header: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.batcher = MicroBatcher(self.scorer)
        self.version_header = str(self.scorer.version.version).encode()


def _json_response(body: bytes, status: int, state: ServerState) -> Response:
    headers = {"connection": "close"} if state.draining else None
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def _read_body(headers: list[tuple[bytes, bytes]], receive: Receive, limit: int) -> bytes:
    length = _header(headers, b"content-length")
    if length is not None:
        if not length.isdigit():
            raise RequestError(400, "Invalid Content-Length header.")
        if int(length) > limit:
            raise RequestError(
                413,
                f"The request body is {int(length)} bytes; the limit is "
                f"{limit} bytes. Send smaller batches.",
                "REQUEST_TOO_LARGE",
            )
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise RequestError(400, "The client disconnected before sending the body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestError(
                413,
                f"The request body exceeds the limit of {limit} bytes. Send smaller batches.",
                "REQUEST_TOO_LARGE",
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _content_type(headers: list[tuple[bytes, bytes]]) -> str:
    ctype = (_header(headers, b"content-type") or "").split(";")[0].strip().lower()
    if ctype not in (JSON, CSV):
        raise RequestError(
            415,
            f"Content-Type must be {JSON} or {CSV} (got {ctype[:60]!r}).",
            "UNSUPPORTED_MEDIA_TYPE",
        )
    return ctype


def _status(route: str, exc: RequestError) -> int:
    # MLflow's scoring server answers a body that does not match the schema with 400.
    return 400 if route == "invocations" and exc.status == 422 else exc.status


async def score(
    state: ServerState,
    route: str,
    headers: list[tuple[bytes, bytes]],
    receive: Receive,
    rid: str | None = None,
) -> tuple[int, bytes, bytes]:
    """Validate, predict and encode one scoring request.

    ``rid`` is the request's id (:func:`request_id` of the headers when omitted); the
    monitoring collector, when the server has one, counts the request under it. With a
    canary challenger, the request id decides which model answers (the champion answers when
    the challenger fails); with a shadow one, the champion answers and the request is queued
    for the challenger.

    Returns
    -------
    (int, bytes, bytes)
        The status, the JSON body, and the version number that answered (``X-Model-Version``).
    """
    start = time.perf_counter()
    monitor = state.monitor
    scorer = state.scorer
    router = state.challenger
    answered_by = state.version_header
    rows = None
    try:
        ctype = _content_type(headers)
        raw = await _read_body(headers, receive, state.max_body)
        if len(raw) > INLINE_BODY:
            rows, params = await run_in_threadpool(scorer.parse_request, route, ctype, raw)
        else:
            rows, params = scorer.parse_request(route, ctype, raw)
        predictions = None
        if params is None and len(rows) <= INLINE_ROWS:
            # A canary answers through the champion's path: the rows parsed above (the
            # signatures match), its own MicroBatcher, the same encoder. None: it failed.
            if router is not None and router.canary:
                rid = rid or request_id(headers)
                if router.routes(rid):
                    predictions = await router.answer(rows)
                    if predictions is not None:
                        answered_by = router.version_header
            if predictions is None:
                predictions = await state.batcher.predict(rows)
        else:  # requests with params are predicted alone: params apply to their rows only
            predictions = await run_in_threadpool(scorer.predict_rows, rows, params)
        body = Scorer.encode(predictions)
    except RequestError as exc:
        elapsed = time.perf_counter() - start
        status = _status(route, exc)
        state.metrics.failed(route, elapsed, status, exc.code)
        if state.predlog is not None:  # exc.message is capped: the row stays small
            state.predlog.record(elapsed * 1000, status, error=exc.message)
        if monitor is not None:
            monitor.observe(rid or request_id(headers), elapsed * 1000, status)
        return status, exc.body(), answered_by
    except Exception as exc:  # the model itself failed: log it, tell the client what kind
        elapsed = time.perf_counter() - start
        log.exception("Prediction failed")
        state.metrics.failed(route, elapsed, 500, type(exc).__name__)
        message = f"The model failed to predict ({type(exc).__name__}); see the server log."
        if state.predlog is not None:
            state.predlog.record(elapsed * 1000, 500, error=message)
        if monitor is not None:
            monitor.observe(rid or request_id(headers), elapsed * 1000, 500)
        if router is not None and router.active:
            if router.canary:
                router.champion.observe(elapsed * 1000, ok=False)
            else:
                router.shadow(None, None, elapsed * 1000)
        return 500, RequestError(500, message, "INTERNAL_ERROR").body(), answered_by
    elapsed = time.perf_counter() - start
    state.metrics.ok(route, elapsed, len(rows))
    if answered_by is not state.version_header:  # the canary answered: not the champion's rows
        if state.predlog is not None and state.predlog.sampled():
            state.predlog.record(elapsed * 1000, 200)
        if monitor is not None:
            monitor.observe(rid or request_id(headers), elapsed * 1000, 200)
        return 200, body, answered_by
    if state.predlog is not None and state.predlog.sampled():
        state.predlog.record(elapsed * 1000, 200, scorer.columns, rows, predictions)
    if monitor is not None:  # a deque append; counting happens on the collector's thread
        monitor.observe(rid or request_id(headers), elapsed * 1000, 200, rows, predictions)
    if router is not None and router.active:
        if router.canary:
            router.champion.observe(elapsed * 1000)
        else:  # a deque append; the challenger predicts on its own thread
            router.shadow(rows, predictions, elapsed * 1000)
    return 200, body, answered_by


class ScoringFastPath:
    """ASGI middleware answering ``POST /invocations`` and ``POST /predict`` directly.

    The scoring routes are the hot path; answering them here skips Starlette's routing and
    request/response objects (about half of a single-row request's cost). The same routes are
    declared on the FastAPI app too, for the OpenAPI docs and for anything mounted without it.


    It also checks the bearer token (when the server has one) on every route but ``/health``,
    before any other work: an unauthenticated request is neither parsed nor logged.
    """

    ROUTES = {"/invocations": "invocations", "/predict": "predict"}

    def __init__(self, app: ASGIApp, state: ServerState):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Score the two routes; pass everything else to the FastAPI app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = self.ROUTES.get(path) if scope["method"] == "POST" else None
        rid = request_id(scope["headers"])
        digest = self.state.token_digest
        if digest is not None and path not in OPEN_PATHS:
            if not authorized(_header(scope["headers"], b"authorization"), digest):
                if route is not None:
                    self.state.metrics.failed(route, 0.0, 401, "UNAUTHENTICATED")
                await self._send(
                    send, 401, _UNAUTHENTICATED, rid, [(b"www-authenticate", b"Bearer")]
                )
                return
        if route is None:
            await self.app(scope, receive, with_request_id(send, rid))
            return
        status, body, version = await score(self.state, route, scope["headers"], receive, rid)
        await self._send(send, status, body, rid, [(b"x-model-version", version)])

    async def _send(
        self, send: Send, status: int, body: bytes, rid: str, extra: list | None = None
    ) -> None:
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()),
                   (b"x-request-id", rid.encode("ascii")), *(extra or [])]  # fmt: skip
        if self.state.draining:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


_UNAUTHENTICATED = RequestError(
    401,
    "This model server needs a bearer token: send the header 'Authorization: Bearer <token>' "
    "with the token it was deployed with.",
    "UNAUTHENTICATED",
).body()


def create_app(state: ServerState) -> FastAPI:
    """Build the FastAPI application serving ``state.scorer``.

    Parameters
    ----------
    state : ServerState
        The scorer (model + signature), metrics, prediction logger and limits.

    Returns
    -------
    FastAPI
        An ASGI application (run it with uvicorn, or test it with Starlette's TestClient).
    """
    version = state.scorer.version
    app = FastAPI(
        title=f"{version.name} v{version.version} (jupyter-mlops model server)",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.mlops = state

    @app.post(
        "/invocations",
        summary="Score an MLflow payload",
        description="Body: {dataframe_split | dataframe_records | instances | inputs, params?} "
        "as JSON, or a CSV table with a header row (text/csv).",
    )
    async def invocations(request: Request) -> Response:
        status, body, _ = await score(state, "invocations", request.headers.raw, request.receive)
        return _json_response(body, status, state)

    @app.post("/predict", summary="Score a list of records")
    async def predict(request: Request) -> Response:
        status, body, _ = await score(state, "predict", request.headers.raw, request.receive)
        return _json_response(body, status, state)

    @app.post(
        "/feedback",
        summary="Labels for earlier predictions",
        description='Body: {"ids": [...], "labels": [...]} or '
        '{"rows": [{"id": ..., "label": ...}]}; ids are the X-Request-Id values of the '
        "predictions (<id>:<row> for a multi-row request's later rows). Answers how many "
        "matched a kept prediction and how many are unknown.",
    )
    async def feedback(request: Request) -> Response:
        from .feedback import record_feedback

        status, body = await record_feedback(state, request.headers.raw, request.receive)
        return _json_response(body, status, state)

    @app.get("/health", summary="Liveness and readiness")
    async def health() -> Response:
        body = {
            "status": "draining" if state.draining else "ok",
            "model": version.name,
            "version": version.version,
            "deployment_id": state.deployment_id,
            "pid": os.getpid(),
            "nonce": state.nonce,
            "uptime_s": round(time.time() - state.started_at, 3),
            "challenger": state.challenger.to_health() if state.challenger else None,
        }
        import orjson

        return _json_response(orjson.dumps(body), 200, state)

    @app.get("/metadata", summary="The served model, version and signature")
    async def metadata() -> dict[str, Any]:
        signature = dict(version.signature or {})
        if not state.expose_example:  # often real training rows: only when the deployer opts in
            signature.pop("example", None)
        return {
            "model": version.name,
            "version": version.version,
            "alias": state.alias,
            "flavor": version.flavor,
            "format": version.format,
            "run_id": version.run_id,
            "blob_hash": version.blob_hash,
            "created_at": version.created_at,
            "description": version.description,
            "signature": signature,
            "deployment_id": state.deployment_id,
            "input_mode": "array" if state.scorer.array_mode else "dataframe",
            "lenient": state.scorer.lenient,
            "accepts_params": state.scorer.accepts_params,
        }

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        if state.predlog is not None:
            pending = state.predlog.dropped - state.metrics.dropped._value.get()
            if pending > 0:
                state.metrics.dropped.inc(pending)
        if state.monitor is not None:
            pending = state.monitor.dropped - state.metrics.monitoring_dropped._value.get()
            if pending > 0:
                state.metrics.monitoring_dropped.inc(pending)
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(ScoringFastPath, state=state)
    return app
