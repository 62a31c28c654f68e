"""Tables for notes and the audit trail (issue 17).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0009.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from .schema import metadata

# One row per change a person (or the scheduler, as the OS user) made to an alias, a deployment,
# a schedule, an alert, an automation or a model. Written inside the change's own transaction.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("kind", String(32), nullable=False),  # names.AUDIT_KINDS
    Column("target", String(255), nullable=False),  # churn@production, deployment 3, nightly
    Column("action", String(32), nullable=False),  # set, move, delete, create, stop, ...
    Column("detail", Text),  # JSON object, or NULL
    Index(None, "at"),
    Index(None, "kind", "target", "at"),
)

# Free-text notes on runs, model versions and deployments, with their author and time. Targets
# are the names a person types (a run id, churn/7, a deployment id), so a note needs no join.
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # names.NOTE_KINDS
    Column("target", String(255), nullable=False),
    Column("author", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("text", Text, nullable=False),
    Index(None, "kind", "target", "created_at"),
)
