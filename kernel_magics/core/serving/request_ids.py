"""Request ids of the model server: the client's ``X-Request-Id`` when well formed, else new.

Every response carries the id (:func:`with_request_id` adds it to responses the FastAPI app
builds; the scoring fast path writes it itself). Monitoring keeps each predicted row under it,
so labels sent later (``POST /feedback``, ``mlops.log_labels``) can name the row.
"""

from __future__ import annotations

import random
import re
from typing import Any

from starlette.types import Send

#: A client's request id we honour; anything else (too long, other characters, a ':', which
#: separates a request id from a row number in label ids) is replaced, never echoed.
CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._~-]{1,64}")
# uuid4's layout (version 4, RFC 4122 variant) from a fast PRNG: uuid.uuid4() reads os.urandom
# and builds a UUID object, several times the cost; request ids are labels, not secrets.
_UUID4_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The request's id: the client's ``X-Request-Id`` if well formed, else a new uuid4 hex."""
    for key, value in headers:
        if key == b"x-request-id":
            if CLIENT_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return "%032x" % (random.getrandbits(128) & _UUID4_MASK | _UUID4_BITS)


def with_request_id(send: Send, rid: str) -> Send:
    """``send`` adding the ``X-Request-Id`` header to the response the app starts."""
    value = rid.encode("ascii")

    async def sender(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
            message = {**message, "headers": [*headers, (b"x-request-id", value)]}
        await send(message)

    return sender
