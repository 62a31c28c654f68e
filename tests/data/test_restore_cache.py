"""The restore cache: gc drops the entries of versions gone from the store, and it is bounded."""

from __future__ import annotations

import random

from click.testing import CliRunner

from kernel_magics.cli import cli
from kernel_magics.core.data import load_dataset, store_dataset
from kernel_magics.core.data.restore_cache import cache_root

KB = 1000


def write(path, size: int, seed: int) -> bytes:
    data = random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return data


def test_gc_removes_the_restored_copy_of_a_dropped_version(store, tmp_path):
    # Given three versions of a file, each restored once, and the oldest dropped by --keep-last
    path = tmp_path / "log.bin"
    records = []
    for seed in (1, 2, 3):
        data = write(path, 300 * KB, seed)
        records.append(store_dataset(store, path, "log"))
        assert load_dataset(f"log@{seed}", store=store).read_bytes() == data
    assert {p.name for p in cache_root(store).iterdir()} == {r.hash for r in records}

    # When gc runs with --keep-last 2 (no run read any version)
    dry = CliRunner().invoke(cli, ["gc", "--keep-last", "2", "--dry-run"])
    result = CliRunner().invoke(cli, ["gc", "--keep-last", "2"])

    # Then the dropped version's restored copy is gone and the others are still there
    assert dry.exit_code == 0 and "Would delete 1 restore-cache entr(ies)" in dry.output
    assert result.exit_code == 0, result.output
    assert "Deleted 1 restore-cache entr(ies): 1 of versions no longer stored" in result.output
    assert {p.name for p in cache_root(store).iterdir()} == {r.hash for r in records[1:]}
    assert load_dataset("log@3", store=store).read_bytes() == path.read_bytes()


def test_the_cache_keeps_under_its_limit_least_recently_used_first(store, tmp_path, monkeypatch):
    # Given a cache limit of 700 kB and three restored versions of 300 kB
    monkeypatch.setenv("MLOPS_DATASET_CACHE_LIMIT", "700kB")
    files = {}
    for name, seed in (("a", 1), ("b", 2), ("c", 3)):
        files[name] = write(tmp_path / f"{name}.bin", 300 * KB, seed)
        store_dataset(store, tmp_path / f"{name}.bin", name)
    load_dataset("a@1", store=store)
    load_dataset("b@1", store=store)
    load_dataset("a@1", store=store)  # a is used again, so b is now the least recently used

    # When a third version is restored
    path_c = load_dataset("c@1", store=store)

    # Then b was evicted, a and c are cached, and b restores again when asked for
    cached = {p.name for p in cache_root(store).iterdir()}
    hashes = {n: store.dataset_versions.resolve(n, "1").hash for n in "abc"}
    assert cached == {hashes["a"], hashes["c"]}
    assert path_c.read_bytes() == files["c"]
    assert load_dataset("b@1", store=store).read_bytes() == files["b"]


def test_a_bad_cache_limit_names_the_fix(store, tmp_path, monkeypatch):
    write(tmp_path / "x.bin", 10 * KB, 1)
    store_dataset(store, tmp_path / "x.bin", "x")
    monkeypatch.setenv("MLOPS_DATASET_CACHE_LIMIT", "lots")
    try:
        load_dataset("x@1", store=store)
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        assert "MLOPS_DATASET_CACHE_LIMIT = 'lots' is not a size" in str(exc)
    else:
        raise AssertionError("a bad limit was accepted")
