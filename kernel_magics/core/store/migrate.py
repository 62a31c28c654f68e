"""Schema creation and migrations, safe when many processes open one store at once.

Opening a store reads one row (``alembic_version``). Only when it is missing or behind do we take
a cross-process lock (a lock file next to a SQLite database, an advisory lock on PostgreSQL),
look again, and then either build an empty database from the metadata and stamp it with the head
revision (alembic's documented recipe for a fresh database) or run the pending migrations.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from ...errors import StoreError
from .db import Database
from .revision import HEAD_REVISION
from .schema import metadata

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_LOCK_KEY = 0x6D6C6F7073  # "mlops"


def current_revision(conn: Connection) -> str | None:
    """Return the schema revision recorded in the database, or None for an empty database."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _alembic_config(conn: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def _has_tables(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(conn).get_table_names())


def _build_or_upgrade(conn: Connection) -> str:
    revision = current_revision(conn)
    if revision == HEAD_REVISION:
        return "current"
    if revision is None and not _has_tables(conn):
        metadata.create_all(conn)
        conn.execute(
            text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": HEAD_REVISION})
        return "created"
    from alembic import command

    command.upgrade(_alembic_config(conn), "head")
    return "upgraded"


def ensure_schema(db: Database, lock_path: Path | None = None) -> str:
    """Bring the database to the head revision; cheap when it already is.

    Parameters
    ----------
    db : Database
        The store's database.
    lock_path : Path, optional
        Lock file serializing schema changes between processes (SQLite only).

    Returns
    -------
    str
        ``"current"``, ``"created"`` or ``"upgraded"``.

    Raises
    ------
    StoreError
        When the database was written by a newer jupyter-mlops.
    """
    with db.read() as conn:
        revision = current_revision(conn)
    if revision == HEAD_REVISION:
        return "current"
    if revision is not None and revision > HEAD_REVISION:
        raise StoreError(
            f"This store's schema ({revision}) is newer than this jupyter-mlops understands "
            f"({HEAD_REVISION}). Upgrade jupyter-mlops: pip install -U jupyter-mlops."
        )
    if db.is_sqlite:
        from filelock import FileLock

        lock = FileLock(str(lock_path)) if lock_path else None
        if lock:
            lock.acquire(timeout=120)
        try:
            with db.write() as conn:
                return _build_or_upgrade(conn)
        finally:
            if lock:
                lock.release()
    with db.write() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        return _build_or_upgrade(conn)
