"""Notes on runs, model versions and deployments: ``mlops note``, ``%mlops note``, ``mlops.note``.

A target is written the way a person names the item: a run id (or a unique prefix of 4+ hex
characters), a model version ``churn/7`` or alias ``churn@production`` (the note goes on the
version the alias points at now), or ``deployment:3``. It is resolved before anything is
written, so a typo is an error naming the fix, not a note on nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ValidationError
from .names import NOTE_DEPLOYMENT, NOTE_MODEL_VERSION, NOTE_RUN

if TYPE_CHECKING:
    from .store import Store
    from .store.notes import NoteRecord

__all__ = ["NoteTarget", "note", "notes", "parse_target"]

DEPLOYMENT_PREFIX = "deployment:"


@dataclass(frozen=True)
class NoteTarget:
    """A resolved item to note: its kind and its stored name (full run id, ``churn/7``, ``3``)."""

    kind: str
    target: str

    @property
    def label(self) -> str:
        """How the item reads in a message: ``run 1a2b3c4d``, ``churn/7``, ``deployment 3``."""
        if self.kind == NOTE_RUN:
            return f"run {self.target[:8]}"
        if self.kind == NOTE_DEPLOYMENT:
            return f"deployment {self.target}"
        return self.target


def parse_target(text: str, store: Store | None = None) -> NoteTarget:
    """Resolve what a note is on.

    Parameters
    ----------
    text : str
        A run id, a unique prefix or ``last``; ``churn/7``, ``churn@production``; or
        ``deployment:3``.
    store : Store, optional
        The default store when omitted.

    Raises
    ------
    ValidationError
        When the text is none of those forms.
    NotFoundError
        When the run, model version or deployment does not exist.
    """
    from .store import open_store

    store = store or open_store()
    text = (text or "").strip()
    if not text:
        raise ValidationError(
            "Say what the note is on: a run id, last, churn/7, churn@production or deployment:3."
        )
    if text.lower().startswith(DEPLOYMENT_PREFIX):
        dep = text[len(DEPLOYMENT_PREFIX) :].strip()
        if not dep.isdigit():
            raise ValidationError(
                "A deployment is written deployment:ID with its number, e.g. deployment:3 "
                "(`mlops deployments ls` lists them)."
            )
        return NoteTarget(NOTE_DEPLOYMENT, str(store.deployments.get(int(dep)).id))
    if "/" in text or "@" in text:
        from .registry import parse_ref, registry

        version = registry(store).get_version(parse_ref(text))
        return NoteTarget(NOTE_MODEL_VERSION, f"{version.name}/{version.version}")
    return NoteTarget(NOTE_RUN, store.run_reads().resolve_ref(text))  # an id, a prefix, last


def note(target: str, text: str, *, store: Store | None = None) -> NoteRecord:
    """Write a note on a run, a model version or a deployment, as the current user.

    Parameters
    ----------
    target : str
        A run id or unique prefix, ``churn/7``, ``churn@production`` or ``deployment:3``.
    text : str
        The note.
    store : Store, optional
        The default store when omitted.

    Returns
    -------
    NoteRecord
        The note as stored, with its author and time.

    Examples
    --------
    >>> import kernel_magics as mlops
    >>> mlops.note("churn/7", "Approved by risk review on 2026-12-01")  # doctest: +SKIP
    """
    from .store import open_store

    store = store or open_store()
    resolved = parse_target(target, store)
    return store.notes.add(resolved.kind, resolved.target, text)


def notes(target: str, *, store: Store | None = None) -> list[NoteRecord]:
    """Return the notes on a run, a model version or a deployment, oldest first.

    Parameters
    ----------
    target : str
        As for :func:`note`.
    store : Store, optional
        The default store when omitted.
    """
    from .store import open_store

    store = store or open_store()
    resolved = parse_target(target, store)
    return store.notes.list(resolved.kind, resolved.target)
