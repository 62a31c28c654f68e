"""Opening a SQLite store while another process holds its lock waits instead of failing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from kernel_magics.core.store.db import _retry_while_locked

HOLD = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "c.execute('BEGIN EXCLUSIVE')\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "c.execute('COMMIT')\n"
)


def _hold_lock(path, seconds):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_statement_refused_as_locked_is_retried_until_the_lock_is_released(tmp_path):
    # Given a database another process holds locked for 0.5 s, and a connection that gets
    # "database is locked" at once (no busy handler), as PRAGMA journal_mode sometimes does
    path = tmp_path / "mlops.db"
    sqlite3.connect(path).close()
    holder = _hold_lock(path, 0.5)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 0")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        conn.execute("BEGIN IMMEDIATE")
    # When the statement goes through the retry
    start = time.monotonic()
    _retry_while_locked(lambda: conn.execute("BEGIN IMMEDIATE"), timeout=10)
    # Then it succeeded once the other process let go, well before the timeout
    assert time.monotonic() - start < 5
    conn.execute("ROLLBACK")
    holder.wait(timeout=10)


def test_other_errors_and_a_lock_held_past_the_timeout_are_raised(tmp_path):
    path = tmp_path / "mlops.db"
    sqlite3.connect(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _retry_while_locked(lambda: conn.execute("SELECT * FROM missing"))
    holder = _hold_lock(path, 3)
    conn.execute("PRAGMA busy_timeout = 0")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _retry_while_locked(lambda: conn.execute("BEGIN IMMEDIATE"), timeout=0.3)
    holder.wait(timeout=10)
