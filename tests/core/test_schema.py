"""Migrations and the SQLAlchemy metadata describe the same schema; schema creation is race-free."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest
from sqlalchemy import create_engine

from kernel_magics.core.store.migrate import HEAD_REVISION


def _migrated_differences(url: str):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kernel_magics.core.store.migrate import _alembic_config
    from kernel_magics.core.store.schema import metadata

    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    engine.dispose()
    return diff


def test_migrations_match_metadata_on_sqlite(tmp_path):
    assert _migrated_differences(f"sqlite:///{tmp_path / 'm.db'}") == []


@pytest.mark.postgres
def test_migrations_match_metadata_on_postgres(pg_url):
    assert _migrated_differences(pg_url) == []


def test_head_revision_constant_is_alembics_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from kernel_magics.core.store.migrate import HEAD_REVISION, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_downgrade_then_upgrade_round_trips(tmp_path):
    from alembic import command
    from sqlalchemy import inspect

    from kernel_magics.core.store.migrate import HEAD_REVISION, _alembic_config
    from kernel_magics.core.store.schema import metadata

    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
        command.downgrade(_alembic_config(conn), "base")
    with engine.connect() as conn:
        # every table of every migration is gone: each downgrade undoes its upgrade
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == []
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == set(metadata.tables) | {"alembic_version"}
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
            (HEAD_REVISION,)
        ]
    engine.dispose()
    # and the re-created schema is the one the metadata describes, column for column
    assert _migrated_differences(url) == []


def test_store_on_older_schema_is_upgraded(tmp_path, monkeypatch):
    from alembic import command

    from kernel_magics.core.store import open_store
    from kernel_magics.core.store.migrate import _alembic_config

    db = tmp_path / ".mlops" / "mlops.db"
    db.parent.mkdir()
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
    engine.dispose()
    monkeypatch.setenv("MLOPS_HOME", str(db.parent))
    assert open_store().schema_status == "upgraded"


def _open_and_log(home: str, barrier, index: int, out) -> None:
    import os

    os.environ["MLOPS_HOME"] = home
    barrier.wait()
    try:
        import kernel_magics as mlops

        with mlops.start_run(experiment="race"):
            mlops.log_metric("i", index)
        out.put(("ok", index))
    except BaseException as exc:  # reported to the parent
        out.put(("error", repr(exc)))


def test_sixteen_processes_open_an_empty_store_at_once(tmp_path):
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(16), ctx.Queue()
    home = str(tmp_path / "race" / ".mlops")
    procs = [ctx.Process(target=_open_and_log, args=(home, barrier, i, out)) for i in range(16)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [r for r in results if r[0] == "error"] == []
    conn = sqlite3.connect(f"{home}/mlops.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM runs WHERE status = 'finished'").fetchone()[0] == 16
    assert conn.execute("SELECT count(*) FROM experiments").fetchone()[0] == 1
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]


def test_the_alias_history_gets_its_actors_from_the_audit_trail_on_upgrade(tmp_path, monkeypatch):
    import getpass

    import pandas as pd
    from alembic import command
    from sklearn.linear_model import LogisticRegression
    from sqlalchemy import update

    from kernel_magics.core.actor import acting_as
    from kernel_magics.core.registry.api import log_model
    from kernel_magics.core.store import open_store
    from kernel_magics.core.store.migrate import _alembic_config
    from kernel_magics.core.store.schema_audit import audit_log

    # Given alias moves made by two people, and one move the audit trail has no entry for
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / ".mlops"))
    store = open_store()
    frame = pd.DataFrame({"tenure": [1, 5, 9, 12]})
    model = LogisticRegression().fit(frame, [0, 1, 0, 1])
    for _ in range(2):
        log_model(model, "churn", frame, store=store)
    store.models.set_alias("churn", "production", 1)
    with acting_as("ada"):
        store.models.set_alias("churn", "production", 2)
        store.models.set_alias("churn", "candidate", 2)
    with store.db.write() as conn:  # as if the candidate's entry predated the audit trail
        conn.execute(update(audit_log).where(audit_log.c.target == "churn@candidate").values(at=0))
    store.close()
    # When the store goes back to 0015 (no actor column) and is upgraded again
    engine = create_engine(f"sqlite:///{tmp_path / '.mlops' / 'mlops.db'}")
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0015")
        command.upgrade(_alembic_config(conn), "head")
    engine.dispose()
    # Then each move names who made it, from its audit entry; the unmatched one names nobody
    store = open_store()
    moves = [(m.alias, m.to_version, m.actor) for m in store.models.alias_history("churn")]
    assert moves == [
        ("production", 1, getpass.getuser()),
        ("production", 2, "ada"),
        ("candidate", 2, None),
    ]
    store.close()
