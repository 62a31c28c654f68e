"""``/mlops/api/notes``: notes on runs, model versions and deployments.

Written as the request's Jupyter user (see ``MlopsHandler.prepare``); the same notes as
``mlops note`` and ``mlops.note``, through :mod:`kernel_magics.core.notes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.errors import NotFoundError, ValidationError

from ..base import MlopsHandler
from ..contract import Operation
from ..models.notes import CreateNoteRequest, ListNotesQuery, ListNotesResponse, Note

#: What a 404 says for each kind (never the target itself: the client sent it).
_MISSING = {
    "run": "The target names no run (or several): give a full run id or a unique prefix of 4+ "
    "hex characters, as listed by GET /mlops/api/runs.",
    "model_version": "The target names no model version: write NAME/VERSION or NAME@ALIAS of "
    "a registered model, as listed by GET /mlops/api/models.",
    "deployment": "The target names no deployment: give a deployment id, as listed by "
    "GET /mlops/api/deployments.",
}
_MALFORMED = {
    "run": "A run target is a run id or its first 4+ hex characters.",
    "model_version": "A model version target is NAME/VERSION or NAME@ALIAS, e.g. churn/7.",
    "deployment": "A deployment target is its numeric id, e.g. 3.",
}


@contextmanager
def resolving(kind: str) -> Iterator[None]:
    """Turn core's errors about a target into ones that do not echo it."""
    try:
        yield
    except NotFoundError:
        raise NotFoundError(_MISSING[kind]) from None
    except ValidationError:
        raise ValidationError(_MALFORMED[kind]) from None


def _core_target(kind: str, target: str) -> str:
    """The target as :func:`kernel_magics.core.notes.parse_target` reads it, for ``kind``."""
    model_like = "/" in target or "@" in target
    if kind == "deployment":
        if not target.isdigit():
            raise ValidationError(_MALFORMED[kind])
        return f"deployment:{target}"
    if (kind == "model_version") != model_like:
        raise ValidationError(_MALFORMED[kind])
    return target


class NotesHandler(MlopsHandler):
    """List an item's notes, or add one."""

    operations = {
        "get": Operation(
            "The notes on a run, a model version or a deployment, oldest first.",
            ListNotesResponse,
            query=ListNotesQuery,
            errors=(400, 404),
            description="404 when the run, model version or deployment does not exist.",
        ),
        "post": Operation(
            "Add a note, written by the request's Jupyter user.",
            Note,
            body=CreateNoteRequest,
            status=201,
            errors=(400, 404),
            description=(
                "A run's newest note is also its mlops.note tag (what the runs table shows). "
                "The note is recorded in the audit trail (kind note)."
            ),
        ),
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`ListNotesResponse`."""
        from kernel_magics.core.notes import notes

        query = self.parse_query(ListNotesQuery)
        with resolving(query.kind):
            found = notes(_core_target(query.kind, query.target), store=self.store)
        self.respond(ListNotesResponse, {"notes": [n.to_dict() for n in found]})

    @web.authenticated
    @authorized
    def post(self) -> None:
        """Answer the :class:`Note` written (201)."""
        from kernel_magics.core.notes import parse_target
        from kernel_magics.core.store.notes import check_note

        body = self.parse_body(CreateNoteRequest)
        text = check_note(body.kind, body.text)  # its messages never quote the note
        with resolving(body.kind):
            resolved = parse_target(_core_target(body.kind, body.target), self.store)
        if resolved.kind != body.kind:
            raise ValidationError(_MALFORMED[body.kind])
        self.respond(Note, self.store.notes.add(resolved.kind, resolved.target, text).to_dict())
