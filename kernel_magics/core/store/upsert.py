"""``INSERT ... ON CONFLICT DO UPDATE`` for SQLite and PostgreSQL (same syntax, two dialects)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict],
    keys: Sequence[str],
    update_columns: Sequence[str],
    only_if_newer: str | None = None,
) -> None:
    """Insert ``rows``, updating ``update_columns`` where a row with the same ``keys`` exists.

    With no ``update_columns`` an existing row is left as it is (``DO NOTHING``): a race-free
    get-or-create when several processes insert the same key at once.

    Parameters
    ----------
    only_if_newer : str, optional
        A column name: update only when the incoming value is >= the stored one.
    """
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt: Any = insert(table)
    if not update_columns:
        conn.execute(stmt.on_conflict_do_nothing(index_elements=list(keys)), list(rows))
        return
    where = None
    if only_if_newer:
        where = stmt.excluded[only_if_newer] >= table.c[only_if_newer]
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={col: stmt.excluded[col] for col in update_columns},
        where=where,
    )
    conn.execute(stmt, list(rows))
