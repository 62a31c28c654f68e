"""Stored dataset versions come back bit for bit: files, folders, DataFrames; found by name@V."""

from __future__ import annotations

import os
import random
import stat

import pandas as pd
import pytest

import kernel_magics as mlops
from kernel_magics.core.data import (
    load_dataset,
    materialize,
    read_manifest,
    resolve_version,
    store_dataset,
)
from kernel_magics.errors import (
    BlobIntegrityError,
    ConflictError,
    DatasetNotFoundError,
    FileMissingError,
    ValidationError,
)


def random_bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def tree(root) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root``: relative path -> (content, permission bits)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = (open(path, "rb").read(), os.stat(path).st_mode)
    return out


def test_a_file_over_many_chunks_comes_back_bit_for_bit(store, tmp_path):
    # Given a 3 MB binary file (about twenty chunks) stored as a version
    data = random_bytes(3_000_000)
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    record = store_dataset(store, source, "weights")
    # When the file changes on disk and the version is loaded
    source.write_bytes(b"changed")
    path = load_dataset("weights@1", store=store)
    # Then the stored bytes come back, from the store's cache, as the original file name
    assert record.kind == "file" and record.size == len(data) and record.ref == "weights@1"
    assert len(read_manifest(store, record).chunks) > 5
    assert path.read_bytes() == data and path.name == "weights.bin"
    assert path.is_relative_to(store.location.home)
    assert not os.access(path, os.W_OK) or os.geteuid() == 0  # read-only (root ignores it)
    assert not stat.S_IMODE(path.stat().st_mode) & stat.S_IWUSR


def test_a_folder_comes_back_with_every_file_path_and_mode(store, tmp_path):
    # Given a nested folder with an empty file, an executable and binary content
    src = tmp_path / "images"
    (src / "cats" / "small").mkdir(parents=True)
    (src / "cats" / "a.png").write_bytes(random_bytes(70_000, 1))
    (src / "cats" / "small" / "b.png").write_bytes(random_bytes(300, 2))
    (src / "empty.txt").write_bytes(b"")
    (src / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "run.sh").chmod(0o755)
    record = store_dataset(store, src, "images")
    # When it is restored to a destination with `get`
    dest = tmp_path / "out"
    materialize(store, "images@latest", dest)
    # Then the tree is identical, modes included
    assert record.kind == "folder" and record.files == 4
    expected, got = tree(src), tree(dest)
    assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in expected.items()}
    assert stat.S_IMODE(got["run.sh"][1]) == 0o755
    assert load_dataset("images@1", store=store).joinpath("cats/small/b.png").read_bytes() == (
        random_bytes(300, 2)
    )


def test_a_frame_comes_back_equal_and_the_same_frame_is_one_version(store):
    # Given a frame with ints, floats with NaN, strings, categories, datetimes and an index
    frame = pd.DataFrame(
        {
            "age": [31, 45, 27],
            "score": [0.5, float("nan"), 1.25],
            "city": ["Lyon", "Oslo", None],
            "plan": pd.Categorical(["a", "b", "a"]),
            "seen": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]),
        },
        index=pd.Index([10, 20, 30], name="customer"),
    )
    first = store_dataset(store, frame, "customers")
    # When the same frame is logged again (a copy) and the version is loaded
    again = store_dataset(store, frame.copy(), "customers")
    loaded = load_dataset("customers@1", store=store)
    # Then it is one version, and the frame comes back equal, dtypes and index included
    assert again.id == first.id and first.kind == "frame" and first.rows == 3
    pd.testing.assert_frame_equal(loaded, frame)
    parquet = load_dataset("customers@1", as_path=True, store=store)
    assert parquet.suffix == ".parquet"


def test_a_csv_loads_as_a_frame_and_versions_resolve_by_number_latest_and_hash(store, tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text("x,y\n1,a\n2,b\n")
    v1 = store_dataset(store, csv, None)
    csv.write_text("x,y\n1,a\n2,b\n3,c\n")
    v2 = store_dataset(store, csv, None)
    assert (v1.ref, v2.ref) == ("train@1", "train@2")
    assert resolve_version(store, "train@latest").id == v2.id
    assert resolve_version(store, "train").id == v2.id
    assert resolve_version(store, f"train@{v1.hash[:8]}").id == v1.id
    assert list(load_dataset("train@1", store=store)["x"]) == [1, 2]
    assert list(mlops.load_dataset("train@2", store=store)["y"]) == ["a", "b", "c"]


def test_bad_references_say_what_exists(store, tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text("x\n1\n")
    store_dataset(store, csv, None)
    with pytest.raises(DatasetNotFoundError, match="its versions are 1"):
        resolve_version(store, "train@7")
    with pytest.raises(DatasetNotFoundError, match="mlops datasets ls"):
        resolve_version(store, "nope@1")
    with pytest.raises(ValidationError, match="hash prefix"):
        resolve_version(store, "train@xyz")
    with pytest.raises(FileMissingError, match="no such file or folder"):
        store_dataset(store, tmp_path / "missing.csv", "m")
    with pytest.raises(ValidationError, match="without '@'"):
        store_dataset(store, csv, "a@b")


def test_a_reference_only_version_cannot_be_loaded_and_says_where_it_was(store, tmp_path):
    csv = tmp_path / "big.csv"
    csv.write_text("x\n1\n")
    record = store_dataset(store, csv, "big", store_content=False)
    assert record.kind == "ref" and not record.stored and record.stored_bytes == 0
    with pytest.raises(ConflictError, match=str(csv)):
        load_dataset("big@1", store=store)


def test_over_the_store_limit_only_a_reference_is_recorded(store, tmp_path, monkeypatch):
    (store.location.home / "config.toml").write_text('[datasets]\nstore_limit = "1kB"\n')
    big = tmp_path / "big.bin"
    big.write_bytes(random_bytes(5000))
    with pytest.warns(UserWarning, match="over the store limit"):
        record = store_dataset(store, big, "big")
    assert record.kind == "ref"
    forced = store_dataset(store, big, "big", store_content=True)  # same content: now stored
    assert forced.id == record.id and forced.kind == "file"
    assert load_dataset("big@1", store=store).read_bytes() == big.read_bytes()
    monkeypatch.setenv("MLOPS_DATASET_STORE_LIMIT", "lots")
    with pytest.raises(ValidationError, match="MLOPS_DATASET_STORE_LIMIT"):
        store_dataset(store, big, "big")


def test_a_corrupted_chunk_is_refused_on_restore(store, tmp_path):
    source = tmp_path / "data.bin"
    source.write_bytes(random_bytes(400_000, 3))
    record = store_dataset(store, source, "data")
    digest = read_manifest(store, record).chunks[1][0]
    blob = store.blobs.local_path(digest)
    blob.write_bytes(b"x" + blob.read_bytes()[1:])
    with pytest.raises(BlobIntegrityError):
        materialize(store, "data@1", tmp_path / "out.bin")


def test_get_refuses_to_overwrite_unless_asked(store, tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("one")
    store_dataset(store, source, "a")
    (tmp_path / "dest.txt").write_text("mine")
    with pytest.raises(ConflictError, match="--overwrite"):
        materialize(store, "a@1", tmp_path / "dest.txt")
    materialize(store, "a@1", tmp_path / "dest.txt", overwrite=True)
    assert (tmp_path / "dest.txt").read_text() == "one"
    folder = tmp_path / "into"
    folder.mkdir()
    assert materialize(store, "a@1", folder) == folder / "a.txt"


def test_log_dataset_in_a_run_stores_the_content_and_links_the_run(store, tmp_path):
    csv = tmp_path / "churn.csv"
    csv.write_text("tenure,churned\n3,1\n40,0\n")
    with mlops.start_run(store=store) as run:
        logged = mlops.log_dataset(csv)
        ref_only = mlops.log_dataset(csv, name="churn_ref", store=False)
    assert logged["ref"] == "churn@1" and logged["kind"] == "file" and logged["new"]
    assert ref_only["kind"] == "ref"
    assert store.dataset_versions.runs_of(logged["id"]) == [{"run_id": run.id, "role": "input"}]
    assert [d["name"] for d in store.runs.get(run.id).datasets] == ["churn", "churn_ref"]
