"""Tables for alerts: rules on a deployed model's monitoring figures, and their incidents.

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0005.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from .schema import metadata

# A rule: "alert when any of these conditions holds over the latest window of this model".
alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("model_ref", String(255), nullable=False),  # churn, churn@production, churn/3
    Column("conditions", Text, nullable=False),  # JSON list of "metric op threshold"
    Column("window_s", Float, nullable=False),
    Column("notify", Text, nullable=False),  # JSON list of "command:..." / "webhook:..."
    Column("paused", Integer, nullable=False),
    # The minute (UTC epoch, a multiple of 60) this rule was last evaluated for: a scheduler
    # evaluates a minute only if it moves this forward, so two schedulers never both do.
    Column("evaluated_at", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# An incident: a time during which a rule's condition held. Open while resolved_at is NULL.
alert_incidents = Table(
    "alert_incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("last_seen_at", Float, nullable=False),  # the latest evaluation it still held at
    Column("window_start", Float, nullable=False),  # the window that opened it
    Column("window_end", Float, nullable=False),
    Column("broken", Text, nullable=False),  # JSON {condition: value} that opened it
    Column("notified_at", Float),
    Column("notify_error", Text),
    Index(None, "rule_id", "resolved_at"),
)
