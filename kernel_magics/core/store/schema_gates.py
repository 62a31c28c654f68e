"""Table for promotion-gate evaluations (issue 17: the gate results a model card shows).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets it from
``metadata.create_all`` and an older one from migration 0015.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from .schema import metadata

# One row per `mlops promote` that evaluated its conditions (passed or failed; a dry run is not
# recorded): a reviewer sees every attempt, with the values each condition was checked against.
# The checks are one JSON list, read whole.
promotion_gates = Table(
    "promotion_gates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "model_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("alias", String(255), nullable=False),
    Column("passed", Integer, nullable=False),
    Column("checks", Text, nullable=False),  # JSON: [GateCheck as a dict, ...]
    Column("actor", String(255), nullable=False),
    Column("evaluated_at", Float, nullable=False),
    Index(None, "model_version_id", "id"),
)
