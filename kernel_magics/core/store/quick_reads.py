"""Run reads on a SQLite store through :mod:`sqlite3`, for commands people type all day.

Importing SQLAlchemy takes longer than ``mlops runs ls`` may take in all (0.3 s). On a SQLite
store whose schema is at the head revision, :func:`quick_reads` opens the database read-only
with :mod:`sqlite3` and returns a :class:`~.run_reads.RunReads` over the statements compiled
ahead of time from :mod:`.read_statements` (the same statements and the same assembly code
the store uses). Anywhere else (PostgreSQL, a store to create or migrate, a database sqlite3
cannot open) it returns None and the caller opens the store as usual.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import resolve_location
from ._compiled_reads import SQL
from .revision import HEAD_REVISION
from .run_reads import RunReads

_EXPANDING = re.compile(r"\(__\[POSTCOMPILE_(\w+)\]\)")
_SQLITE_PREFIX = "sqlite:///"


class _SqliteFetch:
    """Execute compiled statements by name on one read-only connection (one snapshot)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __call__(self, name: str, params: dict[str, Any]) -> Sequence[Mapping[str, Any]]:
        sql, literals = SQL[name]
        bound: dict[str, Any] = dict(literals)
        lists = {k: v for k, v in params.items() if isinstance(v, list)}
        bound.update((k, v) for k, v in params.items() if k not in lists)

        def expand(match: re.Match[str]) -> str:
            values = lists[match.group(1)]
            names = [f"{match.group(1)}_{i}" for i in range(len(values))]
            bound.update(zip(names, values, strict=True))
            return "(" + (", ".join(f":{n}" for n in names) or "NULL") + ")"

        return self.conn.execute(_EXPANDING.sub(expand, sql), bound).fetchall()


def _as_dict(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def _database_path(store_uri: str) -> Path | None:
    if not store_uri.startswith(_SQLITE_PREFIX) or "?" in store_uri:
        return None
    path = Path(store_uri[len(_SQLITE_PREFIX) :])
    return path if path.is_file() else None


def quick_reads(env: Mapping[str, str] | None = None) -> RunReads | None:
    """Run reads on the resolved store without SQLAlchemy, or None when that cannot be done.

    Parameters
    ----------
    env : mapping, optional
        Environment to resolve the store from (``os.environ`` by default).
    """
    try:
        location = resolve_location(environ=env)
    except Exception:  # an unusable location: the usual path says what is wrong
        return None
    path = _database_path(location.store_uri)
    if path is None:
        return None
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
        conn.row_factory = _as_dict
        conn.execute("BEGIN")  # one snapshot for every statement of the command
        revision = conn.execute(SQL["schema_revision"][0]).fetchone()
    except sqlite3.Error:
        return None
    if revision is None or revision["version_num"] != HEAD_REVISION:
        conn.close()
        return None
    return RunReads(_SqliteFetch(conn))
