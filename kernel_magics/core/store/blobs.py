"""Content-addressed blobs behind fsspec.

A blob's name is the BLAKE3 hash of its content. BLAKE3 because it is a cryptographic hash (a
model blob whose hash matches was not tampered with, which a non-cryptographic hash such as xxh3
cannot promise) and still runs at several GB/s, far faster than SHA-256. The size is recorded
next to the hash in the ``blobs`` table.

Local blobs are written to a temporary name in the same folder, fsynced, then renamed, so a
reader never sees half a blob. Object stores (``s3://...``) get a single PUT, which is atomic.
Every read checks the hash; a mismatch raises instead of returning bad bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import blake3

from ...errors import BlobIntegrityError, BlobNotFoundError

CHUNK = 1 << 20


@dataclass(frozen=True)
class BlobRef:
    """A stored blob: its BLAKE3 hex digest and its size in bytes."""

    hash: str
    size: int


def hash_bytes(data: bytes) -> str:
    """Return the BLAKE3 hex digest of ``data``."""
    return blake3.blake3(data).hexdigest()


def hash_file(path: str | os.PathLike[str]) -> BlobRef:
    """Hash a local file without reading it into memory."""
    hasher = blake3.blake3()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return BlobRef(hasher.hexdigest(), size)


class BlobStore:
    """Content-addressed storage rooted at a local folder or any fsspec URL.

    Parameters
    ----------
    root : str
        A local path or an fsspec URL such as ``s3://bucket/prefix``.
    """

    def __init__(self, root: str):
        self.root = root
        self._local_root: Path | None = None
        if "://" not in root or root.startswith("file://"):
            self._local_root = Path(root.removeprefix("file://")).expanduser().resolve()
        self._fs = None

    @property
    def is_local(self) -> bool:
        """Whether blobs live on the local filesystem."""
        return self._local_root is not None

    @property
    def fs(self):
        """The fsspec filesystem of a remote root (created on first use)."""
        if self._fs is None:
            import fsspec

            self._fs, self._fs_root = fsspec.core.url_to_fs(self.root)
        return self._fs

    def _relative(self, digest: str) -> str:
        return f"blobs/{digest[:2]}/{digest[2:]}"

    def local_path(self, digest: str) -> Path:
        """Path of a blob on the local filesystem (only for local roots)."""
        assert self._local_root is not None
        return self._local_root / self._relative(digest)

    def _remote_path(self, digest: str) -> str:
        self.fs  # noqa: B018 - resolves _fs_root
        return f"{self._fs_root.rstrip('/')}/{self._relative(digest)}"

    def exists(self, digest: str) -> bool:
        """Whether the blob is present (its content is not checked)."""
        if self.is_local:
            return self.local_path(digest).exists()
        return self.fs.exists(self._remote_path(digest))

    def _reuse(self, digest: str) -> bool:
        """Whether the blob exists; a reused local blob is touched so gc sees it as young."""
        if self.is_local:
            try:
                os.utime(self.local_path(digest))
                return True
            except FileNotFoundError:
                return False
        return self.fs.exists(self._remote_path(digest))

    def modified_at(self, digest: str) -> float | None:
        """When the blob's file was last written or reused (epoch seconds; None if missing)."""
        if self.is_local:
            try:
                return self.local_path(digest).stat().st_mtime
            except FileNotFoundError:
                return None
        try:
            info = self.fs.info(self._remote_path(digest))
        except FileNotFoundError:
            return None
        stamp = info.get("LastModified") or info.get("mtime") or info.get("created")
        return stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp or 0.0)

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data``; identical content is stored once."""
        ref = BlobRef(hash_bytes(data), len(data))
        if self._reuse(ref.hash):
            return ref
        if self.is_local:
            self._write_local(ref.hash, [data])
        else:
            self.fs.pipe_file(self._remote_path(ref.hash), data)
        return ref

    def put_file(self, path: str | os.PathLike[str]) -> BlobRef:
        """Store a local file's content; identical content is stored once."""
        ref = hash_file(path)
        if self._reuse(ref.hash):
            return ref
        if self.is_local:
            with open(path, "rb") as fh:
                self._write_local(ref.hash, iter(lambda: fh.read(CHUNK), b""))
            if hash_file(self.local_path(ref.hash)) != ref:  # the file changed while copying
                self.local_path(ref.hash).unlink(missing_ok=True)
                raise BlobIntegrityError(f"{path} changed while it was being stored; log it again.")
        else:
            self.fs.put_file(str(path), self._remote_path(ref.hash))
        return ref

    def _write_local(self, digest: str, chunks: Iterable[bytes]) -> None:
        target = self.local_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)

    def get_bytes(self, digest: str) -> bytes:
        """Return a blob's content after checking its hash.

        Raises
        ------
        BlobNotFoundError
            When the blob is missing.
        BlobIntegrityError
            When its content does not hash to ``digest``.
        """
        try:
            if self.is_local:
                data = self.local_path(digest).read_bytes()
            else:
                data = self.fs.cat_file(self._remote_path(digest))
        except FileNotFoundError as exc:
            raise BlobNotFoundError(
                f"Blob {digest[:12]} is missing from the artifact store {self.root}."
            ) from exc
        if hash_bytes(data) != digest:
            raise BlobIntegrityError(
                f"Blob {digest[:12]} in {self.root} does not match its hash: it was modified or "
                "corrupted after it was written, so it will not be used."
            )
        return data

    def delete(self, digest: str) -> None:
        """Remove a blob (used by garbage collection only)."""
        if self.is_local:
            self.local_path(digest).unlink(missing_ok=True)
        else:
            path = self._remote_path(digest)
            if self.fs.exists(path):
                self.fs.rm_file(path)

    def list_hashes(self) -> set[str]:
        """Every blob hash present in the store (for garbage collection)."""
        if self.is_local:
            assert self._local_root is not None
            base = self._local_root / "blobs"
            if not base.exists():
                return set()
            return {
                p.parent.name + p.name
                for p in base.glob("*/*")
                if p.is_file() and not p.name.startswith(".tmp-")
            }
        remote_base = f"{self._fs_root.rstrip('/')}/blobs"
        if not self.fs.exists(remote_base):
            return set()
        found = set()
        for path in self.fs.find(remote_base):
            parts = path.rstrip("/").split("/")
            if not parts[-1].startswith(".tmp-"):
                found.add(parts[-2] + parts[-1])
        return found
