"""Monitoring: per-bucket request statistics of deployments, predictions kept by request id, labels.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_buckets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("latency", sa.Text(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("prediction", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_monitoring_buckets_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_monitoring_buckets_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_buckets")),
    )
    op.create_index(
        op.f("ix_monitoring_buckets_model_version_id_start"),
        "monitoring_buckets",
        ["model_version_id", "start"],
    )
    op.create_index(
        op.f("ix_monitoring_buckets_deployment_id_start"),
        "monitoring_buckets",
        ["deployment_id", "start"],
    )
    op.create_table(
        "monitoring_predictions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("prediction", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_monitoring_predictions_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_monitoring_predictions_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_predictions")),
    )
    op.create_index(
        op.f("ix_monitoring_predictions_request_id_row"),
        "monitoring_predictions",
        ["request_id", "row"],
    )
    op.create_index(
        op.f("ix_monitoring_predictions_model_version_id_at"),
        "monitoring_predictions",
        ["model_version_id", "at"],
    )
    op.create_table(
        "monitoring_labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_monitoring_labels_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_labels")),
        sa.UniqueConstraint(
            "model_id",
            "request_id",
            "row",
            name=op.f("uq_monitoring_labels_model_id_request_id_row"),
        ),
    )


def downgrade() -> None:
    op.drop_table("monitoring_labels")
    op.drop_index(
        op.f("ix_monitoring_predictions_model_version_id_at"), table_name="monitoring_predictions"
    )
    op.drop_index(
        op.f("ix_monitoring_predictions_request_id_row"), table_name="monitoring_predictions"
    )
    op.drop_table("monitoring_predictions")
    op.drop_index(
        op.f("ix_monitoring_buckets_deployment_id_start"), table_name="monitoring_buckets"
    )
    op.drop_index(
        op.f("ix_monitoring_buckets_model_version_id_start"), table_name="monitoring_buckets"
    )
    op.drop_table("monitoring_buckets")
