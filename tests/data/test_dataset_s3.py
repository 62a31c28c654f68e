"""Dataset versions on S3-compatible storage (a real moto server on 127.0.0.1)."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from kernel_magics.core.data import load_dataset, materialize, read_manifest, store_dataset
from kernel_magics.errors import BlobIntegrityError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_store(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("FSSPEC_S3", json.dumps({"client_kwargs": {"endpoint_url": s3_endpoint}}))
    import fsspec.config
    import s3fs

    fsspec.config.set_conf_env(fsspec.config.conf)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint})
    bucket = f"datasets-{time.time_ns()}"
    fs.mkdir(bucket)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", f"s3://{bucket}/team")
    from kernel_magics.core.store import open_store

    yield open_store(), fs, bucket
    fsspec.config.conf.pop("s3", None)


def test_versions_round_trip_through_s3_deduplicated_and_hash_checked(s3_store, tmp_path):
    store, fs, bucket = s3_store
    # Given a 2 MB file, a version with 1 % appended, a folder and a frame, stored on S3
    data = random.Random(1).randbytes(2_000_000)
    path = tmp_path / "events.bin"
    path.write_bytes(data)
    first = store_dataset(store, path, "events")
    path.write_bytes(data + random.Random(2).randbytes(20_000))
    second = store_dataset(store, path, "events")
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.txt").write_text("beta")
    store_dataset(store, folder, "docs")
    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    store_dataset(store, frame, "frame")
    # Then the chunks are objects in the bucket, the second version added little,
    assert not store.blobs.is_local
    objects = fs.find(f"{bucket}/team/blobs")
    assert {h for h, _ in read_manifest(store, first).chunks} <= {
        o.split("/")[-2] + o.split("/")[-1] for o in objects
    }
    assert first.stored_bytes == len(data) and second.stored_bytes < 0.1 * len(data)
    # and every version comes back bit for bit
    assert materialize(store, "events@1", tmp_path / "v1.bin").read_bytes() == data
    assert load_dataset("events@2", store=store).read_bytes() == path.read_bytes()
    restored = load_dataset("docs@1", store=store)
    assert (restored / "sub" / "b.txt").read_text() == "beta"
    pd.testing.assert_frame_equal(load_dataset("frame@1", store=store), frame)
    # A chunk changed in the bucket is refused, not returned
    digest = read_manifest(store, second).chunks[-1][0]
    fs.pipe_file(f"{bucket}/team/blobs/{digest[:2]}/{digest[2:]}", b"tampered")
    with pytest.raises(BlobIntegrityError):
        materialize(store, "events@2", tmp_path / "v2.bin")
