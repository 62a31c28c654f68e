"""Challenger deployments (shadow, canary) and guards with automatic rollback.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challengers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("champion_version_id", sa.Integer(), nullable=False),
        sa.Column("challenger_version_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("guards", sa.Text(), nullable=False),
        sa.Column("guard_for_s", sa.Float(), nullable=False),
        sa.Column("notify", sa.Text(), nullable=False),
        sa.Column("allow_pickle", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("guard_state", sa.String(length=16), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["champion_version_id"],
            ["model_versions.id"],
            name=op.f("fk_challengers_champion_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["challenger_version_id"],
            ["model_versions.id"],
            name=op.f("fk_challengers_challenger_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challengers")),
    )
    with op.batch_alter_table("challengers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_challengers_model_alias_status"),
            ["model", "alias", "status"],
            unique=False,
        )
    op.create_table(
        "challenger_stats",
        sa.Column("challenger_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("champion_requests", sa.Integer(), nullable=False),
        sa.Column("champion_errors", sa.Integer(), nullable=False),
        sa.Column("champion_latency", sa.Text(), nullable=False),
        sa.Column("challenger_requests", sa.Integer(), nullable=False),
        sa.Column("challenger_errors", sa.Integer(), nullable=False),
        sa.Column("challenger_latency", sa.Text(), nullable=False),
        sa.Column("compared_rows", sa.Integer(), nullable=False),
        sa.Column("agreed_rows", sa.Integer(), nullable=False),
        sa.Column("abs_diff_sum", sa.Float(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenger_id"],
            ["challengers.id"],
            name=op.f("fk_challenger_stats_challenger_id_challengers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenger_id", "deployment_id", name=op.f("pk_challenger_stats")),
    )
    op.create_table(
        "deployment_guards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("notify", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_guards")),
    )
    with op.batch_alter_table("deployment_guards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deployment_guards_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deployment_guards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_guards_status"))
    op.drop_table("deployment_guards")
    op.drop_table("challenger_stats")
    with op.batch_alter_table("challengers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_challengers_model_alias_status"))
    op.drop_table("challengers")
