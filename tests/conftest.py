"""Shared fixtures: a fresh store per test (SQLite, or the session's real PostgreSQL server)."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg_server import PostgresServer  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server",)

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server on 127.0.0.1, started once per test session."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty PostgreSQL database for one test."""
    return pg_server.create_database(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Every test gets its own store folder and no stray MLOPS_* settings."""
    for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / ".mlops"
    monkeypatch.setenv("MLOPS_HOME", str(home))
    yield home
    from kernel_magics.core import tracking
    from kernel_magics.core.store import close_stores

    for run in list(tracking._active):
        tracking.end_run(run=run)
    close_stores()


@pytest.fixture
def store(_isolated_store):
    """A fresh SQLite store in the test's temporary folder."""
    from kernel_magics.core.store import open_store

    return open_store()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, _isolated_store, monkeypatch):
    """The same test against SQLite and against the real PostgreSQL server."""
    from kernel_magics.core.store import open_store

    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("MLOPS_STORE_URI", url)
        monkeypatch.setenv("MLOPS_ARTIFACTS_URI", str(_isolated_store / "artifacts"))
    return open_store()


# The modules that take minutes, longest first (`make test PYTEST_ARGS=--durations=40` lists
# them). The Makefile hands whole modules to the two workers in collection order (`--dist
# loadscope --no-loadscope-reorder`: a module's lab server, browser or image is made once), so
# these go first and the many short modules fill the end. xdist's own order, by test count,
# started the four-minute binder image last while the other worker sat idle.
LONG_MODULES = (
    "tests/test_binder.py",  # 135 s, most of it the image's set-up
    "tests/ui/test_lifecycle_journey.py",  # 130 s, light and dark
    "tests/automations/test_guard_conditions.py",  # 90 s
    "tests/core/test_light_install.py",  # 70 s
    "tests/core/test_durability.py",  # 65 s
    "tests/automations/test_end_to_end.py",  # 60 s
    "tests/ui/test_runs_table.py",  # 50 s, most of it seeding 10,000 runs
    "tests/ui/test_item_history.py",  # 35 s
)


def pytest_collection_modifyitems(session, config, items):
    """Long modules first, then the other modules with a slow test, then the rest."""
    slow_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}

    def rank(item) -> tuple[int, int]:
        module = item.nodeid.split("::")[0]
        if module in LONG_MODULES:
            return (0, LONG_MODULES.index(module))
        return (1, 0) if module in slow_modules else (2, 0)

    items.sort(key=rank)  # stable: a module's tests keep their order
