"""Model tests: results of `mlops test` per model version.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_test_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_test_runs_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_test_runs")),
    )
    with op.batch_alter_table("model_test_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_test_runs_model_version_id_started_at"),
            ["model_version_id", "started_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("model_test_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_test_runs_model_version_id_started_at"))
    op.drop_table("model_test_runs")
