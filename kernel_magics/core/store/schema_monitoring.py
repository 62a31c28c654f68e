"""Tables for monitoring: request statistics per bucket, predictions by id, labels.

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0004.

- ``monitoring_buckets``: one row per closed time bucket of one server (or one batch): request,
  error and row counts, the latency histogram and the per-feature / prediction counts as JSON
  (shapes in :mod:`kernel_magics.core.monitoring.counts`). Two servers, or a server restarted
  within a bucket, write two rows with the same ``start``: readers add them up.
- ``monitoring_predictions``: what was predicted for each row of each request, by request id,
  so labels that arrive later can be joined. Compact on purpose: no inputs.
- ``monitoring_labels``: ground truth by request id and row, per registered model (a label
  holds whichever version predicted it). Unique per (model, request, row): a later label for the
  same row replaces the earlier one.
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

from .schema import metadata

#: Request ids: a client's own (``[A-Za-z0-9._~-]``, at most 64 characters) or a uuid4 hex.
REQUEST_ID = String(64)

monitoring_buckets = Table(
    "monitoring_buckets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "model_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("deployment_id", Integer, ForeignKey("deployments.id", ondelete="CASCADE")),
    Column("source", String(16), nullable=False),  # names.MONITORING_SOURCES
    Column("start", Float, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("latency", Text, nullable=False),  # JSON list of counts over counts.LATENCY_EDGES_MS
    Column("features", Text, nullable=False),  # JSON {feature: counts}
    Column("prediction", Text),  # JSON counts, or NULL when nothing was predicted
    Column("created_at", Float, nullable=False),
    Index(None, "model_version_id", "start"),
    Index(None, "deployment_id", "start"),
)

monitoring_predictions = Table(
    "monitoring_predictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "model_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("deployment_id", Integer, ForeignKey("deployments.id", ondelete="CASCADE")),
    Column("request_id", REQUEST_ID, nullable=False),
    Column("row", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("prediction", Text, nullable=False),  # JSON scalar
    Column("score", Float),  # the positive-class probability of a classifier, when it has one
    Index(None, "request_id", "row"),
    Index(None, "model_version_id", "at"),
)

monitoring_labels = Table(
    "monitoring_labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("request_id", REQUEST_ID, nullable=False),
    Column("row", Integer, nullable=False),
    Column("label", Text, nullable=False),  # JSON scalar
    Column("at", Float, nullable=False),
    UniqueConstraint("model_id", "request_id", "row"),
)
