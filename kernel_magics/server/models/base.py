"""The two kinds of API model: what a client sends, and what the server answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

#: The largest integer a database column holds (SQLite and PostgreSQL BIGINT): a larger id or
#: offset names nothing, and would overflow the driver instead of answering.
MAX_INT = 2**63 - 1


class Request(BaseModel):
    """A query string or a JSON body: an unknown field is refused with 400, naming it."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    """An answer: handlers build it from core records, and only its fields leave the server.

    Fields core adds later stay inside until a model (and ``extension/src/api.ts``) declares them.
    """

    model_config = ConfigDict(extra="ignore")


class ErrorResponse(Response):
    """Every error answer: a message that names the problem and the fix."""

    message: str
    reason: str | None = None
