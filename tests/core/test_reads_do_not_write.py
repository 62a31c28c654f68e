"""Reads never write: a dead run is *shown* as crashed by every read, persisted only by writers.

Issue 10: ``get_run()``/``runs()`` and the panel's GETs used to reap as a side effect, so a
read-only replica or a read-only database user could not serve them.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from kernel_magics.core.config import StoreLocation
from kernel_magics.core.store import Store
from kernel_magics.core.store.liveness import CRASHED_ERROR
from kernel_magics.core.store.schema import runs


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def three_runs(store):
    """A run whose local process is gone, one silent for 10 minutes on another host, a live one."""
    experiment = store.experiments.get_or_create("e")
    dead = store.runs.create(experiment, name="dead", pid=_dead_pid())
    away = store.runs.create(experiment, name="away")
    live = store.runs.create(experiment, name="live")  # this test's own pid: alive
    silent_since = time.time() - 600
    with store.db.write() as conn:
        conn.execute(
            update(runs)
            .where(runs.c.id == away)
            .values(hostname="elsewhere", heartbeat_at=silent_since)
        )
    return {"dead": dead, "away": away, "live": live, "silent_since": silent_since}


def _stored_statuses(db_file) -> dict[str, str]:
    with sqlite3.connect(db_file) as conn:
        return dict(conn.execute("SELECT name, status FROM runs").fetchall())


def test_a_read_only_store_shows_dead_runs_crashed(store, three_runs, _isolated_store):
    from kernel_magics.core.store.search import runs_frame, search_runs
    from kernel_magics.core.store.summaries import run_summaries

    db_file = _isolated_store / "mlops.db"
    location = StoreLocation(
        store_uri=f"sqlite:///file:{db_file}?mode=ro&uri=true",
        artifacts_uri=str(_isolated_store / "artifacts"),
        home=None,
        reason="a read-only replica",
    )
    # Given: a store this process cannot write (SQLite refuses every write on it)
    replica = Store(location)
    with pytest.raises(OperationalError, match="readonly"):
        replica.runs.reap()

    # When / Then: every read shows the two dead runs crashed, the live one running
    dead = replica.runs.get(three_runs["dead"])
    assert dead.status == "crashed" and dead.error == CRASHED_ERROR
    assert dead.end_time == dead.heartbeat_at  # ended when it stopped living
    away = replica.runs.get(three_runs["away"])
    assert away.status == "crashed" and away.end_time == pytest.approx(three_runs["silent_since"])
    assert replica.runs.get(three_runs["live"]).status == "running"

    crashed = search_runs(replica, filter="status = 'crashed'")
    assert sorted(crashed.run_ids) == sorted([three_runs["dead"], three_runs["away"]])
    assert search_runs(replica, filter="status = 'running'").run_ids == [three_runs["live"]]
    by_status = search_runs(replica, order_by=["status ASC", "name ASC"]).run_ids
    assert by_status == [three_runs["away"], three_runs["dead"], three_runs["live"]]

    frame = runs_frame(replica, by_status)
    assert list(frame["status"]) == ["crashed", "crashed", "running"]
    rows = run_summaries(replica, by_status)
    assert [(r["name"], r["status"]) for r in rows] == [
        ("away", "crashed"), ("dead", "crashed"), ("live", "running")
    ]  # fmt: skip
    assert rows[0]["duration"] == pytest.approx(three_runs["silent_since"] - rows[0]["start_time"])

    # ...and nothing was written: the database still says running for all three
    assert set(_stored_statuses(db_file).values()) == {"running"}
    replica.close()

    # The one writer persists exactly what the reads showed
    assert sorted(store.runs.reap()) == sorted([three_runs["dead"], three_runs["away"]])
    assert _stored_statuses(db_file) == {"dead": "crashed", "away": "crashed", "live": "running"}


def test_get_run_and_runs_do_not_reap(store, three_runs, _isolated_store):
    import kernel_magics as mlops

    assert mlops.get_run(three_runs["dead"], store=store).status == "crashed"
    frame = mlops.runs(store=store)
    assert sorted(frame["status"]) == ["crashed", "crashed", "running"]
    assert set(_stored_statuses(_isolated_store / "mlops.db").values()) == {"running"}


def test_a_logging_process_reaps_dead_runs_on_a_timer(store, three_runs, monkeypatch):
    from kernel_magics.core.store import writer

    monkeypatch.setattr(writer, "REAP_INTERVAL_S", 0.2)
    import kernel_magics as mlops

    with mlops.start_run(store=store):  # starts this process's background writer
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with store.db.read() as conn:
                stored = dict(
                    conn.execute(runs.select().with_only_columns(runs.c.name, runs.c.status)).all()
                )
            # The reaper ends each run in its own transaction: wait for both, not the first.
            if stored["dead"] == stored["away"] == "crashed":
                break
            time.sleep(0.1)
    assert stored["dead"] == "crashed" and stored["away"] == "crashed"
    assert stored["live"] == "running"
    assert os.getpid() == store.runs.get(three_runs["live"]).pid


def test_search_filters_and_sorts_on_the_shown_status_on_both_databases(any_store):
    experiment = any_store.experiments.get_or_create("e")
    dead = any_store.runs.create(experiment, name="b-dead", pid=_dead_pid())
    live = any_store.runs.create(experiment, name="a-live")
    done = any_store.runs.create(experiment, name="c-done")
    any_store.runs.finish(done, "finished")

    assert any_store.search_runs(filter="status = 'crashed'").run_ids == [dead]
    assert any_store.search_runs(filter="status in ('running')").run_ids == [live]
    ordered = any_store.search_runs(order_by=["status DESC"]).run_ids
    assert ordered == [live, done, dead]  # running > finished > crashed
    assert any_store.runs.get(dead).status == "crashed"
    with any_store.db.read() as conn:
        stored = conn.execute(runs.select().with_only_columns(runs.c.status)).scalars().all()
    assert sorted(stored) == ["finished", "running", "running"]  # the reads wrote nothing


def test_a_read_only_sqlite_uri_keeps_its_artifacts_next_to_the_database(tmp_path):
    from kernel_magics.core.config import resolve_location

    db = tmp_path / "shared" / "mlops.db"
    uri = f"sqlite:///file:{db}?mode=ro&uri=true"
    location = resolve_location(tmp_path / "elsewhere", {"MLOPS_STORE_URI": uri})
    assert location.store_uri == uri
    assert location.artifacts_uri == str(db.parent / "artifacts")
