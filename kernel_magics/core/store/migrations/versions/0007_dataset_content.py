"""Dataset content: stored versions (chunked files, folder manifests, frames as parquet).

Revision ID: 0007
Revises: 0006

Existing versions get a number in the order they were recorded, as references (kind ``ref``):
their content was never stored.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_contents",
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("manifest_hash", sa.String(length=64), nullable=True),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_bytes", sa.BigInteger(), nullable=True),
        sa.Column("files", sa.Integer(), nullable=True),
        sa.Column("stored_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_contents_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_contents_dataset_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manifest_hash"],
            ["blobs.hash"],
            name=op.f("fk_dataset_contents_manifest_hash_blobs"),
        ),
        sa.PrimaryKeyConstraint("dataset_version_id", name=op.f("pk_dataset_contents")),
        sa.UniqueConstraint(
            "dataset_id", "number", name=op.f("uq_dataset_contents_dataset_id_number")
        ),
    )
    op.create_table(
        "dataset_chunks",
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("blob_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_hash"], ["blobs.hash"], name=op.f("fk_dataset_chunks_blob_hash_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_chunks_dataset_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_version_id", "blob_hash", name=op.f("pk_dataset_chunks")),
    )
    op.create_index(
        op.f("ix_dataset_chunks_blob_hash"), "dataset_chunks", ["blob_hash"], unique=False
    )
    # Number the versions recorded before this revision, oldest first, as references.
    op.execute(
        "INSERT INTO dataset_contents (dataset_version_id, dataset_id, number, kind, "
        "stored_bytes, content_bytes) "
        "SELECT v.id, v.dataset_id, "
        "(SELECT COUNT(*) FROM dataset_versions w WHERE w.dataset_id = v.dataset_id "
        "AND w.id <= v.id), 'ref', 0, v.size FROM dataset_versions v"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dataset_chunks_blob_hash"), table_name="dataset_chunks")
    op.drop_table("dataset_chunks")
    op.drop_table("dataset_contents")
