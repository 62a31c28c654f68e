"""Garbage collection keeps every chunk a dataset version needs; --keep-last drops old ones."""

from __future__ import annotations

import random

from click.testing import CliRunner

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.core.data import load_dataset, read_manifest, resolve_version, store_dataset

MB = 1_000_000


def grow(path, seed: int, size: int = 2 * MB) -> bytes:
    data = (path.read_bytes() if path.exists() else b"") + random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return data


def chunk_hashes(store, ref: str) -> set[str]:
    record = resolve_version(store, ref)
    return {h for h, _ in read_manifest(store, record).chunks} | {record.manifest_hash}


def test_gc_never_deletes_a_chunk_a_version_needs(store, tmp_path):
    # Given two versions of a file and an unreferenced blob
    path = tmp_path / "log.bin"
    v1 = grow(path, 1)
    store_dataset(store, path, "log")
    v2 = grow(path, 2)
    store_dataset(store, path, "log")
    orphan = store.blobs.put_bytes(b"nobody needs me")
    # When garbage is collected with no age grace
    removed = store.artifacts.collect_garbage(min_age_s=0)
    # Then only the orphan went, and both versions still restore bit for bit
    assert removed == [orphan.hash]
    for ref in ("log@1", "log@2"):
        assert all(store.blobs.exists(h) for h in chunk_hashes(store, ref))
    assert load_dataset("log@1", store=store).read_bytes() == v1
    assert load_dataset("log@2", store=store).read_bytes() == v2


def test_keep_last_drops_old_versions_no_run_used_and_then_their_chunks(store, tmp_path):
    # Given four versions of a growing file; a run read version 2
    path = tmp_path / "events.bin"
    contents = []
    for seed in range(4):
        contents.append(grow(path, seed))
        if seed == 1:
            with mlops.start_run(store=store):
                mlops.log_dataset(path, name="events")
        else:
            store_dataset(store, path, "events")
    only_v1 = chunk_hashes(store, "events@1") - chunk_hashes(store, "events@2")
    # When versions beyond the newest two are pruned and garbage is collected
    dropped = store.dataset_versions.prune(2)
    removed = set(store.artifacts.collect_garbage(min_age_s=0))
    # Then version 1 went (version 2 stays: a run read it), numbers stay as they were
    assert dropped == ["events@1"]
    assert [r.number for r in store.dataset_versions.versions("events")] == [2, 3, 4]
    assert only_v1 and only_v1 <= removed
    for ref, data in (("events@2", contents[1]), ("events@4", contents[3])):
        assert all(store.blobs.exists(h) for h in chunk_hashes(store, ref))
        assert load_dataset(ref, store=store).read_bytes() == data
    # A new version after pruning gets the next number, not a reused one
    grow(path, 9)
    assert store_dataset(store, path, "events").number == 5


def test_mlops_gc_keep_last_on_the_command_line(store, tmp_path):
    path = tmp_path / "t.csv"
    for rows in (1, 2, 3):
        path.write_text("x\n" + "1\n" * rows)
        store_dataset(store, path, "t")
    runner = CliRunner()
    dry = runner.invoke(cli, ["gc", "--keep-last", "1", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would delete 2 old dataset version(s): t@2, t@1." in dry.output
    assert len(store.dataset_versions.versions("t")) == 3
    done = runner.invoke(cli, ["gc", "--keep-last", "1"])
    assert "Deleted 2 old dataset version(s)" in done.output
    assert [r.ref for r in store.dataset_versions.versions("t")] == ["t@3"]
    bad = runner.invoke(cli, ["gc", "--keep-last", "0"])
    assert bad.exit_code == 2 and "--keep-last" in bad.output
