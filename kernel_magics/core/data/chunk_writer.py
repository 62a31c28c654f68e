"""Hash and write content-defined chunks as blobs, a window of chunks per task.

Local chunks are written like every blob (a temporary name in the blob's folder, then a
rename), but not fsynced one by one (~10 ms each here: 100 s for a folder of 10,000 files):
each chunk's writeback is started as soon as it is written (``sync_file_range``, which does not
wait), and :meth:`ChunkWriter.finish` waits for all of them with one ``syncfs`` before any row
may point at them. So the disk writes while the rest of the version is still being read, cut
and hashed, and the final flush has little left to do. Remote chunks are single PUTs through
the blob store, which is atomic.
"""

from __future__ import annotations

import ctypes
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3

from ..store.blobs import BlobStore

#: Pool threads hashing and writing chunks. BLAKE3, file writes and the ctypes calls release
#: the GIL, so two threads keep both cores of a small machine busy next to the reader.
WORKERS = 3
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_SYNC_FILE_RANGE_WRITE = 2  # start writeback of dirty pages, do not wait for it


def _libc_call(name: str) -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to load
        return None
    return getattr(libc, name, None)


_syncfs_call = _libc_call("syncfs")
_sync_range_call = _libc_call("sync_file_range")
if _sync_range_call is not None:
    _sync_range_call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]


def syncfs(folder: Path) -> None:
    """Flush the filesystem holding ``folder`` once (Linux ``syncfs``; ``sync`` elsewhere)."""
    if _syncfs_call is None:  # pragma: no cover - macOS
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        _syncfs_call(fd)
    finally:
        os.close(fd)


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing ``fd``'s dirty pages now (Linux; a no-op elsewhere)."""
    if _sync_range_call is not None:
        _sync_range_call(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


@dataclass
class StoredStream:
    """What storing a stream produced: its chunks in order and how many bytes were new."""

    chunks: list[tuple[str, int]] = field(default_factory=list)
    new_bytes: int = 0
    total_bytes: int = 0


class ChunkWriter:
    """Hash and store chunks on a small thread pool, one task per window of chunks.

    Parameters
    ----------
    blobs : BlobStore
        Where the chunks go.
    write : bool
        False only hashes (a reference-only version needs the hash, not the bytes).
    """

    def __init__(self, blobs: BlobStore, write: bool = True):
        self.blobs = blobs
        self.write = write
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="mlops-chunks")
        self._futures: list[Future[list[tuple[str, int, bool]]]] = []
        self._folders: set[str] = set()
        self._wrote = False

    def submit(self, view: memoryview, cuts: list[tuple[int, int]], done: Callable[[], None]):
        """Queue the chunks ``view[offset:offset + length]`` (kept in stream order).

        ``done`` is called once they are hashed and written, when ``view`` may be reused.
        """
        future = self._pool.submit(self._put_all, view, cuts)
        future.add_done_callback(lambda _: done())
        self._futures.append(future)

    def _put_all(self, view: memoryview, cuts: list[tuple[int, int]]):
        return [self._put(view[offset : offset + length]) for offset, length in cuts]

    def _put(self, data: memoryview) -> tuple[str, int, bool]:
        digest = blake3.blake3(data).hexdigest()
        size = len(data)
        if not self.write:
            return digest, size, False
        if not self.blobs.is_local:
            if self.blobs.exists(digest):
                return digest, size, False
            self.blobs.put_bytes(bytes(data))
            return digest, size, True
        target = str(self.blobs.local_path(digest))
        try:
            os.utime(target)  # reused: young again for garbage collection, like BlobStore
            return digest, size, False
        except FileNotFoundError:
            pass
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        tmp = f"{folder}/.tmp-{uuid.uuid4().hex}"
        fd = os.open(tmp, _CREATE, 0o644)
        try:
            written = 0
            while written < size:
                written += os.write(fd, data[written:])
            start_writeback(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        self._wrote = True
        return digest, size, True

    def finish(self) -> StoredStream:
        """Wait for every chunk, make the written ones durable, and return them in order."""
        out = StoredStream()
        try:
            for future in self._futures:
                for digest, size, new in future.result():
                    out.chunks.append((digest, size))
                    out.total_bytes += size
                    out.new_bytes += size if new else 0
        finally:
            self._pool.shutdown(wait=True)
        if self._wrote:
            syncfs(Path(next(iter(self._folders))))
        return out

    def abort(self) -> None:
        """Stop after a failure (chunks already written stay for gc to judge)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class Releaser:
    """Calls ``release`` once ``count`` parties have called :meth:`done` (thread-safe)."""

    def __init__(self, count: int, release: Callable[[], None]):
        self._count = count
        self._release = release
        self._lock = threading.Lock()

    def done(self, _future: object = None) -> None:
        """One party is finished with the shared buffer (also a future's done callback)."""
        with self._lock:
            self._count -= 1
            last = self._count == 0
        if last:
            self._release()
