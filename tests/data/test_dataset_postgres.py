"""Dataset versions on a real PostgreSQL store: stored, restored bit for bit, and diffed."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from kernel_magics.core.data import load_dataset, materialize, read_manifest, store_dataset
from kernel_magics.core.data.diff import diff_versions

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url, _isolated_store, monkeypatch):
    """A fresh PostgreSQL database with local artifacts, instead of the SQLite default."""
    from kernel_magics.core.store import open_store

    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", str(_isolated_store / "artifacts"))
    return open_store()


def test_versions_on_postgres_store_restore_and_diff(pg_store, tmp_path):
    store = pg_store
    assert store.db.dialect == "postgresql"
    # Given a folder logged twice (one file edited, one added) and two versions of a frame
    folder = tmp_path / "shards"
    folder.mkdir()
    rng = random.Random(1)
    files = {f"part-{i}.bin": rng.randbytes(200_000) for i in range(5)}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    first = store_dataset(store, folder, "shards")
    (folder / "part-2.bin").write_bytes(b"edited" + files["part-2.bin"][6:])
    (folder / "part-9.bin").write_bytes(b"new file")
    second = store_dataset(store, folder, "shards")
    frame = pd.DataFrame({"id": range(100), "x": [i * 0.5 for i in range(100)]})
    store_dataset(store, frame, name="train")
    store_dataset(store, pd.concat([frame.iloc[10:], frame.iloc[:3]]), name="train")

    # When they are restored and compared
    restored = materialize(store, "shards@1", tmp_path / "v1")
    latest = load_dataset("shards@latest", store=store)
    folders = diff_versions(store, "shards@1", "shards@2")
    frames = diff_versions(store, "train@1", "train@2")

    # Then every byte comes back, the second version stored only around what changed, and the
    # diffs name the changed and added files and the removed rows
    assert {p.name: p.read_bytes() for p in restored.iterdir()} == files
    assert (latest / "part-9.bin").read_bytes() == b"new file"
    assert (latest / "part-2.bin").read_bytes()[:6] == b"edited"
    assert (first.number, second.number, first.stored_bytes) == (1, 2, 1_000_000)
    assert 8 <= second.stored_bytes < first.stored_bytes
    assert len(read_manifest(store, second).files) == 6
    assert [(f.path, f.change) for f in folders.files] == [
        ("part-2.bin", "changed"),
        ("part-9.bin", "added"),
    ]
    assert frames.rows == (100, 93)
    assert (frames.row_changes.added, frames.row_changes.removed) == (0, 7)
