"""Models of ``/mlops/api/notes`` and ``/mlops/api/audit``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import MAX_INT, Request, Response

#: What a note is on (``core/names.py`` NOTE_KINDS).
NoteKind = Literal["run", "model_version", "deployment"]
#: What an audit entry is about (``core/names.py`` AUDIT_KINDS).
AuditKind = Literal["alias", "deployment", "schedule", "alert", "automation", "model", "note"]

# A target as the panel sends it: a run id, churn/7, a deployment id. No spaces or control
# characters; the store resolves it (404 when it names nothing).
_TARGET = r"^[A-Za-z0-9][A-Za-z0-9._\-/@]*$"


class ListNotesQuery(Request):
    """``GET /mlops/api/notes``: the notes on one item."""

    kind: NoteKind = Field(description="run, model_version or deployment")
    target: str = Field(
        min_length=1, max_length=255, pattern=_TARGET,
        description="Run id, model version (churn/7) or deployment id",
    )  # fmt: skip


class Note(Response):
    """One note, with who wrote it and when."""

    id: int = Field(description="Note id")
    kind: NoteKind = Field(description="What it is on")
    target: str = Field(description="Full run id, churn/7 or deployment id")
    author: str = Field(description="Who wrote it (the Jupyter user through the panel)")
    created_at: float = Field(description="UTC epoch seconds")
    text: str = Field(description="The note")


class ListNotesResponse(Response):
    """``GET /mlops/api/notes``: the item's notes, oldest first."""

    notes: list[Note] = Field(description="Oldest first")


class CreateNoteRequest(Request):
    """``POST /mlops/api/notes``: a note on a run, a model version or a deployment."""

    kind: NoteKind = Field(description="run, model_version or deployment")
    target: str = Field(
        min_length=1, max_length=255, pattern=_TARGET,
        description="Run id or unique prefix, churn/7 or churn@production, deployment id",
    )  # fmt: skip
    text: str = Field(min_length=1, max_length=6000, description="The note")


class ListAuditQuery(Request):
    """``GET /mlops/api/audit``: changes, newest first, filtered and paged."""

    since: float | None = Field(None, ge=0, description="Only changes at or after (UTC epoch)")
    kind: AuditKind | None = Field(None, description="Only this kind")
    target: str | None = Field(
        None, min_length=1, max_length=255, pattern=r"^[^\x00-\x1f]+$",
        description="Only this target and the ones inside it (churn matches churn@production)",
    )  # fmt: skip
    limit: int = Field(100, ge=1, le=1000, description="Page size (at most 1000)")
    before: int | None = Field(None, ge=1, le=MAX_INT, description="next_before of the last page")


class AuditEntry(Response):
    """One recorded change."""

    id: int = Field(description="Entry id (newer is larger)")
    at: float = Field(description="UTC epoch seconds")
    actor: str = Field(description="Who: the Jupyter user through the server, else the OS user")
    kind: AuditKind = Field(description="What kind of thing changed")
    target: str = Field(description="What changed: churn@production, deployment 3, a name")
    action: str = Field(description="set, move, delete, create, stop, rollback, pause, resume...")
    detail: dict[str, Any] | None = Field(description="Facts about the change")


class ListAuditResponse(Response):
    """``GET /mlops/api/audit``: one page of entries, newest first."""

    entries: list[AuditEntry] = Field(description="Newest first")
    next_before: int | None = Field(description="Pass as before for the next page; null at the end")
