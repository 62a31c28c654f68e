"""``POST /feedback`` on the model server: labels for earlier predictions, by request id.

The body is ``{"ids": [...], "labels": [...]}`` or ``{"rows": [{"id": ..., "label": ...}]}``
(see :mod:`kernel_magics.core.monitoring.labels`); the answer says how many ids matched a kept
prediction and how many are unknown. The queued predictions are written first, so labels sent
right after their predictions join.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive

from ...errors import ValidationError
from ..monitoring.labels import feedback_rows, record_labels
from .app import _header, _read_body
from .payloads import JSON, RequestError, parse_json

if TYPE_CHECKING:
    from .app import ServerState


async def record_feedback(
    state: ServerState, headers: list[tuple[bytes, bytes]], receive: Receive
) -> tuple[int, bytes]:
    """Store the labels of a ``POST /feedback`` body; return the status and JSON body."""
    monitor = state.monitor
    try:
        if monitor is None:
            raise RequestError(
                409,
                "This model server keeps no predictions (monitoring is off or it serves without "
                "a store); log labels with mlops.log_labels against the store instead.",
                "MONITORING_OFF",
            )
        if (_header(headers, b"content-type") or "").split(";")[0].strip().lower() != JSON:
            raise RequestError(415, f"Content-Type must be {JSON}.", "UNSUPPORTED_MEDIA_TYPE")
        payload = parse_json(await _read_body(headers, receive, state.max_body))
        ids, labels = feedback_rows(payload)

        def store_labels() -> dict[str, Any]:
            monitor.flush_predictions()  # predictions of the last second join too
            return record_labels(monitor.store, state.scorer.version.name, ids, labels).to_dict()

        report = await run_in_threadpool(store_labels)
    except ValidationError as exc:
        return 400, RequestError(400, str(exc), "INVALID_PARAMETER_VALUE").body()
    except RequestError as exc:
        return exc.status, exc.body()
    return 200, orjson.dumps(report)
