"""Promotion gates: every evaluation of `mlops promote`'s conditions, passed or failed.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promotion_gates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("evaluated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_promotion_gates_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_gates")),
    )
    with op.batch_alter_table("promotion_gates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotion_gates_model_version_id_id"),
            ["model_version_id", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("promotion_gates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotion_gates_model_version_id_id"))
    op.drop_table("promotion_gates")
