"""The handlers against a real PostgreSQL store (the team setup), not only SQLite."""

from __future__ import annotations

import json

import pytest
from server_helpers import fetch_json, notebook_json, write_notebook

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(pg_url, _isolated_store, monkeypatch):
    """A fresh PostgreSQL database with local artifacts, instead of the SQLite default."""
    from kernel_magics.core.store import open_store

    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", str(_isolated_store / "artifacts"))
    return open_store()


async def test_runs_filter_sort_page_and_notebook_scope(jp_fetch, seed, jp_root_dir, store):
    # Given
    assert store.db.dialect == "postgresql"
    nb = write_notebook(jp_root_dir / "it's.ipynb", notebook_json("x"))
    ids = [seed.run("e", params={"C": c}, metrics={"acc": a}, notebook=nb, start_time=1000.0 + i)
           for i, (c, a) in enumerate([(1, 0.5), (2, 0.9), (3, 0.7)])]  # fmt: skip
    seed.run("e", metrics={"acc": 0.99})
    # When
    page = await fetch_json(
        jp_fetch, "mlops", "api", "runs",
        params={"notebook": "it's.ipynb", "filter": "params.C >= 2", "order_by": "metrics.acc DESC",
                "limit": 1, "offset": 1},
    )  # fmt: skip
    # Then
    assert page["total"] == 2
    assert [r["id"] for r in page["runs"]] == [ids[2]]
    assert page["runs"][0]["params"] == {"C": "3"}


async def test_versions_diff_and_restore(jp_fetch, seed, jp_root_dir):
    # Given
    a = seed.version("nb.ipynb", notebook_json("C = 0.1"))
    run_id = seed.run("e", version_id=a)
    b = seed.version("nb.ipynb", notebook_json("C = 1.0"))
    # When
    versions = await fetch_json(jp_fetch, "mlops", "api", "notebook_versions",
                                params={"path": "nb.ipynb"})  # fmt: skip
    diff = await fetch_json(jp_fetch, "mlops", "api", "notebook_diffs",
                            params={"a": str(a), "b": str(b)})  # fmt: skip
    restored = await fetch_json(jp_fetch, "mlops", "api", "notebook_versions", str(a), "restore",
                                method="POST", body="{}")  # fmt: skip
    detail = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id)
    # Then
    assert [v["id"] for v in versions["versions"]] == [b, a]
    assert diff["summary"]["changed"] == 1
    assert (
        json.loads((jp_root_dir / restored["path"]).read_text())["cells"][0]["source"] == "C = 0.1"
    )
    assert detail["notebook_version"]["id"] == a
