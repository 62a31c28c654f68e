"""Tables for data quality: a dataset's checks and each version's results (issue 14).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0008.

- ``dataset_checks``: the checks a dataset carries (one set per dataset): ``inferred``
  expectations (columns, dtypes, null shares, numeric ranges, allowed categories, as JSON) or a
  ``pandera`` schema (pandera's own JSON), what a failure does (``warn`` or ``fail``) and the
  version the expectations were inferred from.
- ``dataset_check_results``: the latest result of the checks on one version: passed or not,
  the failures (JSON), the run that logged the version, when.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table, Text

from .schema import RUN_ID, metadata

dataset_checks = Table(
    "dataset_checks",
    metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), nullable=False),  # inferred, pandera
    Column("spec", Text, nullable=False),  # JSON
    Column("on_fail", String(8), nullable=False),  # warn, fail
    Column("inferred_from", Integer, ForeignKey("dataset_versions.id", ondelete="SET NULL")),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

dataset_check_results = Table(
    "dataset_check_results",
    metadata,
    Column(
        "dataset_version_id",
        Integer,
        ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), nullable=False),
    Column("passed", Integer, nullable=False),  # 0 or 1
    Column("failures", Text, nullable=False),  # JSON list of {check, column, message}
    Column("on_fail", String(8), nullable=False),
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("checked_at", Float, nullable=False),
)
