"""Tables for automations: definitions, trigger events, executions (issue 15).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0011.

The exactly-once guarantee lives in ``automation_events``: one row per (automation, event key)
(``dataset:churn-train@4``, ``alert:17``, ``cron:1795399200``...). Every scheduler that notices
an event inserts it with ``ON CONFLICT DO NOTHING``, and the row is then claimed under a lease
exactly as a schedule slot is, so an event runs once however many schedulers watch the store.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .schema import RUN_ID, metadata

automations = Table(
    "automations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("spec", Text, nullable=False),  # JSON: AutomationSpec.to_dict()
    Column("trigger_kind", String(16), nullable=False),  # cron, alert, dataset, model, manual
    Column("trigger_target", String(255)),  # the rule, dataset or model watched
    Column("enabled", Integer, nullable=False),
    # Only events after this instant count (creation, or the last resume): while paused an
    # automation misses its events instead of running them all at resume.
    Column("start_at", Float, nullable=False),
    # For alert, dataset and model triggers: the newest incident / dataset version / model
    # version id at creation (or resume); only ids above it are events. Ids, not times, so an
    # injected scheduler clock and the real creation times never have to agree.
    Column("start_mark", Integer),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

automation_events = Table(
    "automation_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "automation_id", Integer, ForeignKey("automations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("event_key", String(255), nullable=False),
    Column("source_time", Float, nullable=False),  # when the event happened (UTC epoch)
    Column("payload", Text, nullable=False),  # JSON: the values offered to ${...} parameters
    # pending, running, retrying, finished, failed, crashed, killed
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="SET NULL")),  # latest parent run
    Column("lease_owner", String(255)),
    Column("lease_expires_at", Float),
    Column("next_attempt_at", Float),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("automation_id", "event_key"),
    Index(None, "status", "next_attempt_at"),
)

# One row per attempt of an event: the parent run of that execution and how it ended.
automation_event_runs = Table(
    "automation_event_runs",
    metadata,
    Column(
        "event_id",
        Integer,
        ForeignKey("automation_events.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("attempt", Integer, primary_key=True),
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("status", String(16), nullable=False),
    Column("step", String(64)),  # the step that failed, if one did
    Column("error", Text),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
)
