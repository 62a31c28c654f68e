"""Tables for challenger deployments and guards (issue 15).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0013.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from .schema import metadata

# A challenger: a second model version a deployment of ``model@alias`` runs next to its
# champion, in shadow (answers with the champion) or canary (a share answered by it) mode.
challengers = Table(
    "challengers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(255), nullable=False),  # the champion's model name
    Column("alias", String(255), nullable=False),  # the alias its deployment serves
    Column(
        "champion_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "challenger_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("mode", String(16), nullable=False),  # shadow, canary
    Column("share", Float, nullable=False),  # canary: share of request ids it answers
    Column("guards", Text, nullable=False),  # JSON list of "metric op threshold"
    Column("guard_for_s", Float, nullable=False),
    Column("notify", Text, nullable=False),  # JSON list of "command:..." / "webhook:..."
    Column("allow_pickle", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # starting, running, stopped, promoted...
    Column("reason", Text),  # why it ended (the broken guard, "stopped by request"...)
    Column("guard_state", String(16), nullable=False),  # watching, passed, broken
    Column("deployment_id", Integer),  # the (latest) server running it
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Index(None, "model", "alias", "status"),
)

# What one server counted for one challenger: cumulative since that server started, written
# over every second; readers add the rows of every server (a hand-over starts a new row).
challenger_stats = Table(
    "challenger_stats",
    metadata,
    Column(
        "challenger_id",
        Integer,
        ForeignKey("challengers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("deployment_id", Integer, primary_key=True),
    Column("champion_requests", Integer, nullable=False),
    Column("champion_errors", Integer, nullable=False),
    Column("champion_latency", Text, nullable=False),  # JSON counts per LATENCY_EDGES_MS bin
    Column("challenger_requests", Integer, nullable=False),
    Column("challenger_errors", Integer, nullable=False),
    Column("challenger_latency", Text, nullable=False),
    Column("compared_rows", Integer, nullable=False),  # rows both models predicted
    Column("agreed_rows", Integer, nullable=False),  # ... with the same prediction
    Column("abs_diff_sum", Float, nullable=False),  # sum of |champion - challenger| (numeric)
    Column("dropped", Integer, nullable=False),  # shadow requests dropped (queue full)
    Column("updated_at", Float, nullable=False),
)

# A guard on a full deploy or promotion: while it watches, the scheduler's tick judges the
# version's monitoring since ``started_at``; a broken condition rolls ``model@alias`` back.
deployment_guards = Table(
    "deployment_guards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(255), nullable=False),
    Column("alias", String(255), nullable=False),
    Column("version", Integer, nullable=False),  # the guarded version
    Column("previous_version", Integer),  # where a rollback goes
    Column("conditions", Text, nullable=False),  # JSON list of "metric op threshold"
    Column("notify", Text, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("until", Float, nullable=False),
    Column("status", String(16), nullable=False),  # watching, passed, rolled_back, failed
    Column("reason", Text),
    Column("checked_at", Float),
    Column("ended_at", Float),
    Index(None, "status"),
)
