"""The notes people wrote on the runs and model versions a report or a card shows.

Notes are engineer F's part of issue 17 (``mlops note``, ``store.notes``); this is the one place
reports and cards read them, so a change in how notes are stored touches one function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..views.formatting import short_id, when

if TYPE_CHECKING:
    from ..store import Store


def notes_section(store: Store, kind: str, targets: list[str]) -> list[dict[str, Any]]:
    """The notes on ``targets`` (run ids, or ``name/version`` for ``model_version``).

    Oldest first per target: ``[{"target", "author", "when", "text"}]``.

    A store without the notes table yet (an older schema being migrated elsewhere) has none.
    """
    repository = getattr(store, "notes", None)
    if repository is None:
        return []
    found = []
    for target in targets:
        for note in repository.list(kind, target):
            label = short_id(target) if kind == "run" else target
            found.append(
                {"target": label, "author": note.author, "when": when(note.created_at),
                 "text": note.text}
            )  # fmt: skip
    return found
