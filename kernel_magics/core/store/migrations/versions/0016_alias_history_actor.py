"""Alias history: who moved the alias (the OS user, or the Jupyter user through the server).

Moves recorded before this revision get the actor of their audit entry (the audit trail has
named who since revision 0009) when one matches: the same ``model@alias``, within a second.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: How far apart an alias move and its audit entry may be written (same transaction: ~µs).
MATCH_S = 1.0


def upgrade() -> None:
    with op.batch_alter_table("model_alias_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=255), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    meta = sa.MetaData()
    history = sa.Table("model_alias_history", meta, autoload_with=conn)
    models = sa.Table("models", meta, autoload_with=conn)
    audit = sa.Table("audit_log", meta, autoload_with=conn)
    moves: dict[str, list[tuple[int, float]]] = {}
    for move_id, alias, changed_at, name in conn.execute(
        sa.select(history.c.id, history.c.alias, history.c.changed_at, models.c.name)
        .select_from(history.join(models, models.c.id == history.c.model_id))
        .order_by(history.c.changed_at, history.c.id)
    ):
        moves.setdefault(f"{name}@{alias}", []).append((move_id, changed_at))
    entries: dict[str, list[tuple[float, str]]] = {}
    for target, at, actor in conn.execute(
        sa.select(audit.c.target, audit.c.at, audit.c.actor)
        .where(audit.c.kind == "alias")
        .order_by(audit.c.at, audit.c.id)
    ):
        entries.setdefault(target, []).append((at, actor))
    for target, target_moves in moves.items():
        for move_id, actor in _pair(target_moves, entries.get(target, [])):
            conn.execute(sa.update(history).where(history.c.id == move_id).values(actor=actor))


def _pair(moves: list[tuple[int, float]], entries: list[tuple[float, str]]):
    """Match one alias's moves with its audit entries, newest first.

    Every move since the audit trail has exactly one entry, written in the same transaction
    just after it (``0 <= at - changed_at``, well under :data:`MATCH_S`), in the same order;
    the oldest moves may have none. Walking both lists back pairs them even when two moves
    came within a second.
    """
    i, j = len(moves) - 1, len(entries) - 1
    while i >= 0 and j >= 0:
        (move_id, changed_at), (at, actor) = moves[i], entries[j]
        if at - changed_at > MATCH_S:  # an entry without a move (a since-deleted model's)
            j -= 1
        elif at < changed_at:  # a move without an entry (older than the audit trail)
            i -= 1
        else:
            yield move_id, actor
            i, j = i - 1, j - 1


def downgrade() -> None:
    with op.batch_alter_table("model_alias_history", schema=None) as batch_op:
        batch_op.drop_column("actor")
