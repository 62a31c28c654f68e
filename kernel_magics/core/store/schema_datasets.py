"""Tables for stored dataset content: chunk manifests of dataset versions (issue 14).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0007.

- ``dataset_contents``: one row per dataset version, with its stable version number within the
  dataset (``train@3``), its kind (``frame``, ``file``, ``folder`` or ``ref`` for a version
  recorded by reference only), the blob of its manifest and how many bytes storing it added.
  Numbers are assigned when a version is first recorded and never reused, so ``train@3`` names
  the same content after ``mlops gc --keep-last`` removed older versions.
- ``dataset_chunks``: every blob (content-defined chunk) a stored version needs; what garbage
  collection keeps, and what two versions share.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from .schema import HASH, metadata

dataset_contents = Table(
    "dataset_contents",
    metadata,
    Column(
        "dataset_version_id",
        Integer,
        ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # DATASET_KINDS
    Column("manifest_hash", HASH, ForeignKey("blobs.hash")),
    Column("stored_bytes", BigInteger, nullable=False),  # chunk bytes new to the store
    Column("content_bytes", BigInteger),  # bytes of the stored content (parquet for frames)
    Column("files", Integer),
    Column("stored_at", Float),
    UniqueConstraint("dataset_id", "number"),
)

dataset_chunks = Table(
    "dataset_chunks",
    metadata,
    Column(
        "dataset_version_id",
        Integer,
        ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("blob_hash", HASH, ForeignKey("blobs.hash"), primary_key=True),
    Index(None, "blob_hash"),
)
