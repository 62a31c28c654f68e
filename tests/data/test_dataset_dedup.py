"""A new version stores only what changed: appends, edits in the middle, a few files of many."""

from __future__ import annotations

import random

import blake3

from kernel_magics.core.data import load_dataset, materialize, read_manifest, store_dataset

MB = 1_000_000


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_append_only_growth_stores_about_the_appended_bytes(store, tmp_path):
    # Given a 20 MB file stored once
    base = random_bytes(20 * MB, 1)
    path = tmp_path / "events.log"
    path.write_bytes(base)
    first = store_dataset(store, path, "events")
    # When 1 % is appended and the file is stored again
    grown = base + random_bytes(len(base) // 100, 2)
    path.write_bytes(grown)
    second = store_dataset(store, path, "events")
    # Then the new version stored at most 5 % of its size, and both versions restore exactly
    assert first.stored_bytes == len(base)
    assert second.stored_bytes <= 0.05 * len(grown), second.stored_bytes
    assert second.stored_bytes >= len(grown) - len(base)
    assert materialize(store, "events@1", tmp_path / "v1.log").read_bytes() == base
    assert load_dataset("events@2", store=store).read_bytes() == grown


def test_an_edit_in_the_middle_stores_a_chunk_or_two(store, tmp_path):
    base = bytearray(random_bytes(20 * MB, 3))
    path = tmp_path / "table.bin"
    path.write_bytes(bytes(base))
    store_dataset(store, path, "table")
    middle = len(base) // 2
    base[middle : middle + 100] = b"E" * 100
    path.write_bytes(bytes(base))
    edited = store_dataset(store, path, "table")
    assert 100 <= edited.stored_bytes <= 0.05 * len(base), edited.stored_bytes
    assert materialize(store, "table@2", tmp_path / "out.bin").read_bytes() == bytes(base)


def test_ten_changed_files_of_ten_thousand_store_a_small_share(store, tmp_path):
    # Given a folder of 10,000 small files (8 kB each) stored once
    folder = tmp_path / "shards"
    rng = random.Random(4)
    for i in range(10_000):
        sub = folder / f"part-{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:05d}.json").write_bytes(rng.randbytes(8000))
    first = store_dataset(store, folder, "shards")
    # When 10 files spread over the folder change and it is stored again
    changed = rng.sample(range(10_000), 10)
    before = {}
    for i in changed:
        path = folder / f"part-{i // 1000:02d}" / f"{i:05d}.json"
        before[path.relative_to(folder).as_posix()] = blake3.blake3(path.read_bytes()).hexdigest()
        path.write_bytes(rng.randbytes(8000))
    second = store_dataset(store, folder, "shards")
    # Then under 5 % of the folder's bytes were stored anew, and the first version still
    # holds the old content of the changed files
    assert first.files == second.files == 10_000 and first.size == 80 * MB
    assert 10 * 8000 <= second.stored_bytes <= 0.05 * second.size, second.stored_bytes
    old = {f.path: f.hash for f in read_manifest(store, first).files}
    new = {f.path: f.hash for f in read_manifest(store, second).files}
    assert {p for p in old if old[p] != new[p]} == set(before)
    assert all(old[p] == digest for p, digest in before.items())


def test_large_files_in_a_folder_are_shared_whole_when_unchanged(store, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    big = random_bytes(5 * MB, 5)
    (folder / "a-big.bin").write_bytes(big)
    (folder / "b-small.txt").write_text("v1")
    store_dataset(store, folder, "mixed")
    (folder / "b-small.txt").write_text("v2")
    second = store_dataset(store, folder, "mixed")
    assert second.stored_bytes <= 1000, second.stored_bytes
