"""A large file is cut into larger chunks, read in windows, and still deduplicates and restores."""

from __future__ import annotations

import random

import blake3
import pytest
from pyfastcdc import FastCDC

from kernel_magics.core.data import chunks, load_dataset, materialize, read_manifest, store_dataset

MB = 1_000_000


@pytest.fixture
def small_windows(monkeypatch):
    """Windows of 1 MiB and large files from 8 MiB, so a few MB exercise every boundary."""
    monkeypatch.setattr(chunks, "WINDOW", 1024 * 1024)
    monkeypatch.setattr(chunks, "LARGE_FILE", 8 * 1024 * 1024)


def test_a_large_file_stores_only_an_append_and_an_edit(store, tmp_path, small_windows):
    # Given a 24 MB file stored once (large chunks: about 1.25 MiB each)
    base = bytearray(random.Random(1).randbytes(24 * MB))
    path = tmp_path / "events.bin"
    path.write_bytes(bytes(base))
    first = store_dataset(store, path, "events")
    chunk_list = read_manifest(store, first).chunks
    assert first.stored_bytes == len(base)
    assert len(chunk_list) <= len(base) / chunks.LARGE_MIN

    # When 1 % is appended, and then 100 bytes in the middle are edited
    appended = random.Random(2).randbytes(len(base) // 100)
    grown_bytes = bytes(base) + appended
    path.write_bytes(grown_bytes)
    grown = store_dataset(store, path, "events")
    base += appended
    base[len(base) // 2 : len(base) // 2 + 100] = b"E" * 100
    path.write_bytes(bytes(base))
    edited = store_dataset(store, path, "events")

    # Then each version stored what changed plus at most a chunk or two of the largest size
    assert len(appended) <= grown.stored_bytes <= len(appended) + chunks.LARGE_MAX
    assert 100 <= edited.stored_bytes <= 2 * chunks.LARGE_MAX
    assert materialize(store, "events@2", tmp_path / "v2.bin").read_bytes() == grown_bytes
    assert load_dataset("events@3", store=store).read_bytes() == bytes(base)


def test_windows_cut_exactly_where_the_whole_stream_is_cut(store, tmp_path, small_windows):
    # Given a folder whose small files run across many 1 MiB windows, and one large file
    folder = tmp_path / "shards"
    folder.mkdir()
    rng = random.Random(3)
    sizes = [rng.choice([0, 1, 700, 40_000, 300_000, 900_000]) for _ in range(40)]
    for i, size in enumerate(sizes):
        (folder / f"{i:03d}.bin").write_bytes(rng.randbytes(size))
    (folder / "zz-large.bin").write_bytes(rng.randbytes(10 * MB))

    manifest = read_manifest(store, store_dataset(store, folder))

    # Then the chunks are FastCDC's cuts of each stream at once: the small files' bytes
    # together, the large file alone with the large chunk sizes
    small = b"".join((folder / f"{i:03d}.bin").read_bytes() for i in range(len(sizes)))
    large = (folder / "zz-large.bin").read_bytes()
    expected = []
    for data, cutter in (
        (small, FastCDC(chunks.AVG_CHUNK, min_size=chunks.MIN_CHUNK, max_size=chunks.MAX_CHUNK)),
        (large, FastCDC(chunks.LARGE_AVG, min_size=chunks.LARGE_MIN, max_size=chunks.LARGE_MAX)),
    ):
        expected += [(blake3.blake3(c.data).hexdigest(), c.length) for c in cutter.cut_buf(data)]
    assert manifest.chunks == expected
    assert [f.hash for f in manifest.files] == [
        blake3.blake3((folder / f.path).read_bytes()).hexdigest() for f in manifest.files
    ]


def test_a_version_cut_in_small_chunks_still_loads(store, tmp_path, monkeypatch):
    # Given a version of a large file stored before large files got large chunks
    data = random.Random(4).randbytes(12 * MB)
    path = tmp_path / "old.bin"
    path.write_bytes(data)
    monkeypatch.setattr(chunks, "LARGE_FILE", 1 << 62)
    old = store_dataset(store, path, "old")
    monkeypatch.setattr(chunks, "LARGE_FILE", 8 * 1024 * 1024)

    # When the file grows and is logged again with large chunks
    path.write_bytes(data + b"tail")
    new = store_dataset(store, path, "old")

    # Then both versions restore bit for bit (the first still from its small chunks)
    assert len(read_manifest(store, old).chunks) > len(read_manifest(store, new).chunks)
    assert materialize(store, "old@1", tmp_path / "v1.bin").read_bytes() == data
    assert materialize(store, "old@2", tmp_path / "v2.bin").read_bytes() == data + b"tail"
