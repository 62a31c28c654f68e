"""Request bodies: decode JSON or CSV, split MLflow payloads, and the client-error type.

Nothing here echoes what a client sent beyond a short, escaped prefix (:func:`clip`), and every
error message is capped (:data:`MAX_MESSAGE`): an error body and the prediction-log row built
from it stay small whatever the request held.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import orjson

PAYLOAD_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS_KEY = "params"  # MLflow's inference parameters, passed to ``predict(..., params=...)``
MAX_MESSAGE = 500  # characters of an error message (response body and prediction-log row)
MAX_NAME = 40  # characters of a client-given name quoted back in a message
JSON = "application/json"
CSV = "text/csv"


class RequestError(Exception):
    """A client error: the HTTP status and a message that names the problem (no input echoed).

    ``code`` is MLflow's ``error_code`` (``BAD_REQUEST``, ``INVALID_PARAMETER_VALUE``...); the
    message is capped at :data:`MAX_MESSAGE` characters.
    """

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST"):
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code

    def body(self) -> bytes:
        """Return the JSON error body (MLflow's ``error_code`` + ``message`` shape)."""
        return orjson.dumps({"error_code": self.code, "message": self.message})


def invalid(message: str) -> RequestError:
    """A request that does not match the signature (422 ``INVALID_PARAMETER_VALUE``)."""
    return RequestError(422, message, "INVALID_PARAMETER_VALUE")


def clip(name: Any) -> str:
    """Quote a client-given name: escaped (``ascii``) and cut to :data:`MAX_NAME` characters."""
    text = str(name)
    return ascii(text[:MAX_NAME]) + ("..." if len(text) > MAX_NAME else "")


def parse_json(body: bytes) -> Any:
    """Decode a request body; NaN/Infinity literals are let through for validation to name.

    Raises
    ------
    RequestError
        400 for a body that is not JSON or is nested too deeply (with the position, never the
        content).
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise _too_deep() from None
    try:
        return json.loads(body)  # also accepts NaN / Infinity, which validation reports by column
    except RecursionError:
        raise _too_deep() from None
    except UnicodeDecodeError:
        raise RequestError(400, "The request body is not UTF-8 encoded JSON.") from None
    except ValueError as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        raise RequestError(400, f"The request body is not valid JSON{where}.") from None


def _too_deep() -> RequestError:
    return RequestError(
        400,
        "The request body nests arrays or objects too deeply; a payload needs at most 3 levels "
        "(e.g. {'dataframe_split': {'data': [[...]]}}).",
    )


def parse_csv(body: bytes) -> tuple[list[str], list[list[str]]]:
    """Decode a ``text/csv`` body (a header row, then one row per record), as MLflow accepts.

    Returns
    -------
    (list of str, list of list of str)
        The column names and the rows (strings; validation converts them by column type).

    Raises
    ------
    RequestError
        400 for a body that is not UTF-8, has no header or no rows.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RequestError(400, "The request body is not UTF-8 encoded CSV.") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as exc:
        raise RequestError(400, f"The request body is not valid CSV ({exc}).") from None
    if len(rows) < 2:
        raise RequestError(
            400, "A CSV body needs a header row with the column names and at least one data row."
        )
    return rows[0], rows[1:]


@dataclass
class Invocation:
    """An MLflow scoring payload split into its input (one key) and inference ``params``."""

    key: str
    value: Any
    params: dict[str, Any] | None = None


def split_invocation(payload: Any) -> Invocation:
    """Split an ``/invocations`` JSON body into its one input key and its ``params``.

    Raises
    ------
    RequestError
        400 when the body is not an object with exactly one of :data:`PAYLOAD_KEYS` (other keys
        are named, clipped), or ``params`` is not an object.
    """
    if payload.__class__ is not dict:
        raise RequestError(
            400,
            "The body must be a JSON object with one of the keys "
            f"{', '.join(PAYLOAD_KEYS)} (MLflow's scoring format).",
        )
    keys = [k for k in PAYLOAD_KEYS if k in payload]
    extra = [k for k in payload if k not in PAYLOAD_KEYS and k != PARAMS_KEY]
    if len(keys) != 1 or extra:
        shown = ", ".join(clip(k) for k in sorted(extra[:5]))
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        raise RequestError(
            400,
            "The body must have exactly one of the keys "
            f"{', '.join(PAYLOAD_KEYS)}"
            + (f" (and optionally {PARAMS_KEY!r})" if extra else "")
            + (f"; unexpected: {shown}{more}" if extra else "")
            + ".",
        )
    params = payload.get(PARAMS_KEY)
    if params is not None and params.__class__ is not dict:
        raise RequestError(
            400,
            f"{PARAMS_KEY!r} must be an object of parameter names to values, e.g. "
            '{"params": {"threshold": 0.5}}.',
            "INVALID_PARAMETER_VALUE",
        )
    return Invocation(keys[0], payload[keys[0]], params)
