"""Content-addressed local blobs: dedup, atomic writes, hash checked on every read."""

from __future__ import annotations

import pytest

from kernel_magics.core.store.blobs import BlobStore, hash_bytes
from kernel_magics.errors import BlobIntegrityError, BlobNotFoundError


def test_identical_content_is_stored_once(tmp_path):
    blobs = BlobStore(str(tmp_path / "a"))
    first = blobs.put_bytes(b"payload")
    again = blobs.put_bytes(b"payload")
    (tmp_path / "f").write_bytes(b"payload")
    from_file = blobs.put_file(tmp_path / "f")
    assert first == again == from_file and first.size == 7 and first.hash == hash_bytes(b"payload")
    assert blobs.list_hashes() == {first.hash}
    assert not [p for p in (tmp_path / "a").rglob(".tmp-*")]  # no temporary files left behind


def test_tampered_and_missing_blobs_are_refused(tmp_path):
    blobs = BlobStore(str(tmp_path))
    ref = blobs.put_bytes(b"model weights")
    blobs.local_path(ref.hash).write_bytes(b"evil weights")
    with pytest.raises(BlobIntegrityError, match="will not be used"):
        blobs.get_bytes(ref.hash)
    blobs.local_path(ref.hash).unlink()
    with pytest.raises(BlobNotFoundError):
        blobs.get_bytes(ref.hash)


def test_artifact_paths_cannot_escape_the_run(store):
    import kernel_magics as mlops
    from kernel_magics.errors import ValidationError

    with mlops.start_run(store=store):
        for bad in ("../x.txt", "/etc/passwd", "a/../../b", ""):
            with pytest.raises(ValidationError):
                mlops.log_text("x", bad)
        assert mlops.log_text("x", "./dir//file.txt") == "dir/file.txt"
