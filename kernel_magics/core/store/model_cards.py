"""Model cards: the editable fields and the computed importance stored with a model version.

One row per version (``model_cards``). The row is created the first time a card is made, with
the permutation importance computed then; later edits change only the text fields, so a card
rendered again next month shows the same importance figures it was reviewed with.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update

from .db import Database
from .schema_cards import model_cards
from .upsert import upsert

#: The card fields people write (``--set intended_use=...``, PATCH ... /card).
EDITABLE_FIELDS = ("intended_use", "limitations")


@dataclass
class ModelCardRecord:
    """A stored card: the fields people wrote, and what was computed when it was made.

    Attributes
    ----------
    model_version_id : int
    intended_use, limitations : str or None
        Free text written by people.
    importance : dict or None
        Permutation importance on the holdout (see :mod:`kernel_magics.core.reports.importance`).
    created_at, updated_at : float
        UTC epoch seconds.
    """

    model_version_id: int
    intended_use: str | None
    limitations: str | None
    importance: dict[str, Any] | None
    created_at: float
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


class ModelCardRepository:
    """Read, create and edit the card of a model version (keyed by the version's id)."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, model_version_id: int) -> ModelCardRecord | None:
        """The version's card, or None when no card was made yet."""
        query = select(model_cards).where(model_cards.c.model_version_id == model_version_id)
        with self.db.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        raw = row["importance"]
        return ModelCardRecord(
            model_version_id=row["model_version_id"],
            intended_use=row["intended_use"],
            limitations=row["limitations"],
            importance=json.loads(raw) if raw else None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def create(self, model_version_id: int, importance: dict[str, Any] | None) -> ModelCardRecord:
        """Make the version's card with its computed importance; keep an existing card as it is.

        Two processes making the same card at once both end with the first one's row
        (``ON CONFLICT DO NOTHING``), so the importance is never computed into two answers.
        """
        now = time.time()
        row = {
            "model_version_id": model_version_id,
            "intended_use": None,
            "limitations": None,
            "importance": json.dumps(importance) if importance is not None else None,
            "created_at": now,
            "updated_at": now,
        }
        with self.db.write() as conn:
            upsert(conn, model_cards, [row], ["model_version_id"], [])
        card = self.get(model_version_id)
        assert card is not None  # just written in this process
        return card

    def set_importance(self, model_version_id: int, importance: dict[str, Any]) -> None:
        """Replace the stored importance (a card recomputed on another holdout, on request)."""
        with self.db.write() as conn:
            conn.execute(
                update(model_cards)
                .where(model_cards.c.model_version_id == model_version_id)
                .values(importance=json.dumps(importance), updated_at=time.time())
            )

    def update(self, model_version_id: int, values: Mapping[str, str | None]) -> ModelCardRecord:
        """Set editable fields (``''`` or None clears one) on an existing card.

        Raises
        ------
        ValueError
            For a field that is not in :data:`EDITABLE_FIELDS` (callers validate user input
            before this, with a message naming the fields).
        """
        unknown = set(values) - set(EDITABLE_FIELDS)
        if unknown:
            raise ValueError(f"not editable card fields: {sorted(unknown)}")
        cleaned = {k: (v or None) for k, v in values.items()}
        with self.db.write() as conn:
            conn.execute(
                update(model_cards)
                .where(model_cards.c.model_version_id == model_version_id)
                .values(**cleaned, updated_at=time.time())
            )
        card = self.get(model_version_id)
        assert card is not None, "update() needs a card made with create() first"
        return card
