"""Engines and transactions: the only place that knows SQLite from PostgreSQL.

SQLite is opened in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so that two processes never both read-then-upgrade and deadlock. Each
process funnels its writes through one lock (one writer at a time per process), which keeps
SQLite's file lock free of self-contention between the caller's thread and the flusher thread.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from ...errors import NetworkFilesystemError, StoreError

BUSY_TIMEOUT_S = 60.0

# Filesystem types on which SQLite's locking is unreliable (see https://sqlite.org/faq.html#q5).
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb", "smbfs", "smb3", "fuse.sshfs", "sshfs", "9p", "afs",
        "ncpfs", "coda", "glusterfs", "fuse.glusterfs", "lustre", "ceph", "fuse.ceph",
        "fuse.s3fs", "fuse.gcsfuse", "fuse.rclone", "davfs", "fuse.davfs2", "gpfs", "beegfs",
    }
)  # fmt: skip


def filesystem_type(path: Path, mounts_file: str = "/proc/mounts") -> str | None:
    """Return the filesystem type of the mount holding ``path`` (None when unknown).

    Parameters
    ----------
    path : Path
        A file or folder; it need not exist yet (its nearest existing parent is used).
    mounts_file : str
        The mount table to read (Linux ``/proc/mounts``; tests pass a fake one).
    """
    try:
        with open(mounts_file, encoding="utf-8") as fh:
            entries = [line.split() for line in fh if line.strip()]
    except OSError:
        return None
    target = path.resolve()
    best, best_type = "", None
    for fields in entries:
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = str(target) == mount_point or str(target).startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fields[2]
    return best_type


def check_local_filesystem(db_path: Path, mounts_file: str = "/proc/mounts") -> None:
    """Refuse a SQLite database on a network filesystem unless the user overrides it.

    Raises
    ------
    NetworkFilesystemError
        When ``db_path`` is on nfs, cifs, sshfs or a similar filesystem and
        ``MLOPS_ALLOW_NETWORK_FS`` is not set to ``1``.
    """
    if os.environ.get("MLOPS_ALLOW_NETWORK_FS") == "1":
        return
    fstype = filesystem_type(db_path, mounts_file)
    if fstype in NETWORK_FILESYSTEMS:
        raise NetworkFilesystemError(
            f"The SQLite store {db_path} is on a network filesystem ({fstype}), where SQLite's "
            "file locks are unreliable and concurrent writers can corrupt it. Use PostgreSQL for "
            "a shared store (MLOPS_STORE_URI=postgresql+psycopg://user@host/db), move the store "
            "to a local disk (MLOPS_HOME=/local/path), or set MLOPS_ALLOW_NETWORK_FS=1 if you "
            "are sure only one machine writes to it."
        )


def _retry_while_locked(statement: Callable[[], object], timeout: float = BUSY_TIMEOUT_S) -> None:
    """Run ``statement``, retrying for up to ``timeout`` seconds while SQLite says it is locked.

    SQLite answers some lock conflicts without calling the busy handler: a connection opening
    while another process's last connection closes the database (checkpointing and removing the
    WAL file) gets "database is locked" at once from ``PRAGMA journal_mode``. Sixteen processes
    opening one store together hit it (seen in CI); waiting briefly and trying again is what the
    busy timeout would have done.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if ("locked" not in message and "busy" not in message) or time.monotonic() > deadline:
                raise
            time.sleep(0.005 + random.random() * 0.02)  # jitter: the openers do not retry in step


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _retry_while_locked(lambda: cursor.execute("PRAGMA journal_mode = WAL"))
        # NORMAL in WAL mode survives any process crash (SIGKILL included); only a power loss
        # can drop the last commits. That is the right trade for metric logging.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):  # pragma: no cover - exercised by every test
        mode = "IMMEDIATE" if conn.info.get("km_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_store_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine for a store URL.

    Parameters
    ----------
    url : str
        ``sqlite:///path/to/mlops.db`` or ``postgresql+psycopg://user@host:port/db``.

    Raises
    ------
    StoreError
        For an unsupported database or a SQLite database in a folder that cannot be created.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            # A SQLite URI filename (sqlite:///file:/path/mlops.db?mode=ro&uri=true opens a
            # read-only store, e.g. for a server that must not write) names the same file.
            db_path = Path(database.removeprefix("file:"))
            try:
                db_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the store folder {db_path.parent}: {exc}") from exc
            check_local_filesystem(db_path)
        engine = create_engine(
            parsed,
            connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, pool_size=4, max_overflow=4)
    raise StoreError(
        f"Unsupported store database {backend!r}. Use sqlite:///path/mlops.db or "
        "postgresql+psycopg://user@host/db."
    )


_critical_depth = 0
_deferred: list[Callable[[], None]] = []


@contextmanager
def deferring_signals() -> Iterator[None]:
    """Hold back :func:`run_or_defer` actions while the main thread is inside this block.

    A signal handler that raises (SIGTERM ending runs ``killed``) must not interrupt a
    transaction halfway: the connection would keep SQLite's write lock and the next write of
    the same process would wait on it. The action runs as soon as the block is left.
    """
    global _critical_depth
    main = threading.current_thread() is threading.main_thread()
    if main:
        _critical_depth += 1
    try:
        yield
    finally:
        if main:
            _critical_depth -= 1
            if _critical_depth == 0 and _deferred:
                action = _deferred.pop()
                _deferred.clear()
                action()


def run_or_defer(action: Callable[[], None]) -> None:
    """Run ``action`` now, or when the main thread leaves its database critical section."""
    if _critical_depth:
        _deferred.append(action)
    else:
        action()


_databases: weakref.WeakSet[Database] = weakref.WeakSet()


def _reset_locks_after_fork() -> None:
    # A lock held by a parent thread at fork time would never be released in the child.
    for database in _databases:
        database._write_lock = threading.RLock()


os.register_at_fork(after_in_child=_reset_locks_after_fork)


class Database:
    """An engine plus the transaction discipline every repository uses.

    Use :meth:`write` for anything that changes rows and :meth:`read` for queries.
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = create_store_engine(url)
        self.dialect = self.engine.dialect.name
        self._write_lock = threading.RLock()
        _databases.add(self)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is an embedded SQLite database."""
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """Open a write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        with deferring_signals(), self._write_lock, self.engine.connect() as conn:
            conn.info["km_write"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info["km_write"] = False

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Open a read-only transaction (a consistent snapshot in WAL mode)."""
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        """Close every pooled connection (after a fork, or when a test is done)."""
        self.engine.dispose()


def redacted_url(url: str) -> str:
    """Return a database URL with its password hidden (``<unparsable>`` if it is not a URL)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show nothing rather than a secret
        return "<unparsable>"


def violates_constraint(exc: BaseException) -> bool:
    """Whether ``exc`` is the database refusing a row (a foreign or unique key, for example)."""
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)
