"""Tables for model cards (issue 17).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0010.

A card belongs to one model version. The version's description stays on ``model_versions``
(``mlops models describe`` and the card edit the same text); the card adds what only a card has:
the intended use and known limitations people write, and the permutation importance computed
once when the card is first made (a card re-rendered later shows the same figures).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, Table, Text

from .schema import metadata

model_cards = Table(
    "model_cards",
    metadata,
    Column(
        "model_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("intended_use", Text),
    Column("limitations", Text),
    # JSON: {"holdout", "rows", "target", "scoring", "features": [{name, mean, std}]} or
    # {"holdout", "error"} when the model could not be scored on it.
    Column("importance", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
