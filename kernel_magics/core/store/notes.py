"""Notes: free text a person writes on a run, a model version or a deployment.

A run's notes are its one note mechanism: adding one also sets the run's ``mlops.note`` tag to
it (the latest note is what the runs table and ``PATCH runs/{id}`` show), in the same
transaction. Every note is recorded in the audit trail (kind ``note``) under the name the item's
history is listed by: ``run <id>``, ``churn/7``, ``deployment 3``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ...errors import DeploymentNotFoundError, ValidationError
from ..actor import current_actor
from ..names import NOTE_DEPLOYMENT, NOTE_KINDS, NOTE_MODEL_VERSION, NOTE_RUN, Tag
from ..registry.records import parse_ref
from .audit import record_change
from .db import Database
from .model_aliases import find_version
from .run_values import require_run
from .schema import deployments, tags
from .schema_audit import notes
from .upsert import upsert

#: The longest note accepted (the run note's limit in the panel too).
MAX_NOTE_CHARS = 6000


@dataclass
class NoteRecord:
    """One note."""

    id: int
    kind: str
    target: str
    author: str
    created_at: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def audit_target(kind: str, target: str) -> str:
    """The audit-trail name of a noted item: ``run <id>``, ``churn/7``, ``deployment 3``."""
    if kind == NOTE_MODEL_VERSION:
        return target
    return f"{'deployment' if kind == NOTE_DEPLOYMENT else 'run'} {target}"


def check_note(kind: str, text: str) -> str:
    """Return the note's text, stripped.

    Raises
    ------
    ValidationError
        For an unknown kind, an empty note or one longer than :data:`MAX_NOTE_CHARS`.
    """
    if kind not in NOTE_KINDS:
        raise ValidationError(f"Notes are on {', '.join(NOTE_KINDS)}; not on {kind!r}.")
    text = (text or "").strip()
    if not text:
        raise ValidationError("The note is empty: write some text, e.g. 'baseline for Q3'.")
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationError(
            f"The note has {len(text)} characters; keep it under {MAX_NOTE_CHARS} (link a "
            "document for more)."
        )
    return text


def delete_notes_of(conn: Connection, kind: str, targets: Iterable[str]) -> None:
    """Delete the notes on these items, inside the transaction that deletes the items.

    Notes name their item (a run id, ``churn/7``, a deployment id) rather than reference its
    row, so whoever deletes an item deletes its notes too: a later ``churn/7`` (version numbers
    restart after the newest is deleted) must not inherit the deleted one's notes.
    """
    targets = list(targets)
    if targets:
        conn.execute(delete(notes).where(notes.c.kind == kind, notes.c.target.in_(targets)))


def _require_target(conn: Connection, kind: str, target: str) -> str:
    # Returns the item's canonical name (churn/07 -> churn/7), the one deletions match.
    if kind == NOTE_RUN:
        require_run(conn, target)
    elif kind == NOTE_MODEL_VERSION:
        ref = parse_ref(target)
        return f"{ref.name}/{find_version(conn, ref)['version']}"
    elif (
        not target.isdigit()
        or conn.execute(select(deployments.c.id).where(deployments.c.id == int(target))).first()
        is None
    ):
        raise DeploymentNotFoundError(
            f"No deployment {target}; list them with `mlops deployments ls --all`."
        )
    return target


class NoteRepository:
    """Add and list notes (``store.notes``)."""

    def __init__(self, db: Database):
        self.db = db

    def add(self, kind: str, target: str, text: str) -> NoteRecord:
        """Write a note by :func:`~kernel_magics.core.actor.current_actor` and return it.

        Parameters
        ----------
        kind : str
            ``run``, ``model_version`` or ``deployment``.
        target : str
            The full run id, ``churn/7`` (a version number, not an alias) or a deployment id.
        text : str
            The note (stripped; 1 to :data:`MAX_NOTE_CHARS` characters).

        Raises
        ------
        ValidationError
            For an empty or too long note, or an unknown kind.
        NotFoundError
            When the run, model version or deployment does not exist (nothing is written).
        """
        import time

        text = check_note(kind, text)
        author, now = current_actor(), time.time()
        with self.db.write() as conn:
            target = _require_target(conn, kind, target)
            note_id = conn.execute(
                insert(notes).values(
                    kind=kind, target=target, author=author, created_at=now, text=text
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            if kind == NOTE_RUN:  # the run's latest note, as the runs table shows it
                upsert(conn, tags, [{"run_id": target, "key": Tag.NOTE, "value": text}],
                       ["run_id", "key"], ["value"])  # fmt: skip
            record_change(conn, "note", audit_target(kind, target), "create",
                          {"note_id": note_id, "on": kind})  # fmt: skip
        return NoteRecord(int(note_id), kind, target, author, now, text)

    def list(self, kind: str, target: str) -> list[NoteRecord]:
        """The item's notes, oldest first (an unknown item simply has none)."""
        if kind not in NOTE_KINDS:
            raise ValidationError(f"Notes are on {', '.join(NOTE_KINDS)}; not on {kind!r}.")
        with self.db.read() as conn:
            rows = conn.execute(
                select(notes)
                .where(notes.c.kind == kind, notes.c.target == target)
                .order_by(notes.c.created_at, notes.c.id)
            ).mappings()
            return [NoteRecord(**dict(r)) for r in rows]
