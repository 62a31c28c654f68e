"""Tables for model test results (issue 15).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0012.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, Table, Text

from .schema import metadata

# One row per `mlops test` of a model version; promote --require-tests and model cards read the
# newest. The checks are one JSON document: they are read whole, never queried one by one.
model_test_runs = Table(
    "model_test_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "model_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("passed", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("report", Text, nullable=False),  # JSON: ModelTestReport.to_dict()
    Index(None, "model_version_id", "started_at"),
)
