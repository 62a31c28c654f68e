"""Artifacts on S3-compatible storage (a real moto server on 127.0.0.1), metadata on PostgreSQL."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kernel_magics as mlops
from kernel_magics.errors import BlobIntegrityError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
def s3_store(s3_endpoint, monkeypatch, pg_url):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # fsspec reads FSSPEC_<PROTOCOL>_<KWARG> variables: s3fs(client_kwargs=...) for the endpoint.
    monkeypatch.setenv("FSSPEC_S3", json.dumps({"client_kwargs": {"endpoint_url": s3_endpoint}}))
    import fsspec.config

    fsspec.config.set_conf_env(fsspec.config.conf)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint})
    bucket = f"mlops-{time.time_ns()}"
    fs.mkdir(bucket)
    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", f"s3://{bucket}/team")
    from kernel_magics.core.store import open_store

    yield open_store(), fs, bucket
    fsspec.config.conf.pop("s3", None)


@pytest.mark.postgres
def test_team_store_postgres_metadata_and_s3_artifacts(s3_store, tmp_path):
    store, fs, bucket = s3_store
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights" * 1000)
    with mlops.start_run(experiment="team") as run:
        mlops.log_artifact(model)
        mlops.log_text("same", "a.txt")
        mlops.log_text("same", "b.txt")
        mlops.log_metric("acc", 0.9)
    data, _ = store.artifacts.read(run.id, "model.bin")
    assert data == model.read_bytes()
    keys = fs.find(f"{bucket}/team/blobs")
    stored = {k.split("/")[-2] + k.split("/")[-1] for k in keys}
    assert store.blobs.list_hashes() == stored
    environment = store.runs.get(run.id).environment_hash  # linked when captured (may be later)
    artifacts = {a["path"]: a["blob_hash"] for a in store.artifacts.list(run.id)}
    assert artifacts["a.txt"] == artifacts["b.txt"]  # identical content stored once
    assert stored - {environment} == {artifacts["model.bin"], artifacts["a.txt"]}

    # A blob modified behind our back is refused.
    digest = store.artifacts.get(run.id, "model.bin")["blob_hash"]
    fs.pipe_file(f"{bucket}/team/blobs/{digest[:2]}/{digest[2:]}", b"tampered")
    with pytest.raises(BlobIntegrityError, match="does not match its hash"):
        store.artifacts.read(run.id, "model.bin")
