"""Content-defined chunks: cut a stream of files with FastCDC, store each chunk as a blob.

A version's content is one byte stream (a file; a folder's files one after the other in path
order; a DataFrame's parquet file) cut where FastCDC's rolling hash says, so the cut points
follow the content: an append, or an edit in the middle, changes the chunks around it and
leaves every other chunk, and its blob, as it was. Small files share chunks with their
neighbours instead of costing one blob (and one write) each.

Chunks are content-addressed blobs in the store's :class:`~kernel_magics.core.store.blobs.BlobStore`
layout. Local chunks are written to a temporary name and renamed, like every blob, and the
whole version is made durable with one ``syncfs`` before any row points at it (one fsync per
chunk costs ~10 ms each here: 100 s for a folder of 10,000 files). Remote chunks are single
PUTs through the blob store, which is atomic.
"""

from __future__ import annotations

import ctypes
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path

import blake3

from ..store.blobs import BlobStore

#: FastCDC's target chunk size. Its real average is this plus the minimum (32 KiB): ~6,500
#: chunks per GB, and an edit costs about one chunk (~160 KiB) of new bytes.
AVG_CHUNK = 128 * 1024
MIN_CHUNK = 32 * 1024
MAX_CHUNK = 512 * 1024
#: Chunks hashed and written at once by the pool (bounds memory to about 32 x 512 KiB).
IN_FLIGHT = 32
WORKERS = 4


def _chunker():
    from pyfastcdc import FastCDC

    return FastCDC(AVG_CHUNK, min_size=MIN_CHUNK, max_size=MAX_CHUNK)


#: A file this large starts a stream of its own (chunk boundaries at both ends), so an
#: unchanged large file in a folder shares every chunk with the previous version.
OWN_STREAM = 2 * MAX_CHUNK


@dataclass
class StreamFile:
    """One file of a stream: where it is, its size when listed, and what was read of it.

    ``size``, ``mode`` and ``hash`` are filled in as the file is read (the file may have changed
    since it was listed; what was read is what is stored).
    """

    path: str
    source: str
    listed_size: int
    size: int = 0
    mode: int = 0o644
    hash: str = ""


class FileStream:
    """A readable stream of several files one after the other, hashing each as it is read.

    ``readinto`` is what FastCDC's ``cut_stream`` prefers (no copy into new bytes objects).
    """

    def __init__(self, files: list[StreamFile]):
        self.files = files
        self._index = -1
        self._handle: BufferedReader | None = None
        self._hasher: blake3.blake3 | None = None

    def _next_file(self) -> bool:
        self._finish_file()
        self._index += 1
        if self._index >= len(self.files):
            return False
        entry = self.files[self._index]
        self._handle = open(entry.source, "rb")  # noqa: SIM115 - closed in _finish_file
        entry.mode = os.fstat(self._handle.fileno()).st_mode & 0o777
        self._hasher = blake3.blake3()
        return True

    def _finish_file(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            assert self._hasher is not None
            self.files[self._index].hash = self._hasher.hexdigest()

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` from the current file, moving on to the next one at its end."""
        while True:
            if self._handle is None and not self._next_file():
                return 0
            assert self._handle is not None and self._hasher is not None
            count = self._handle.readinto(buffer)
            if count:
                self._hasher.update(buffer[:count])
                self.files[self._index].size += count
                return count
            self._finish_file()


@dataclass
class StoredStream:
    """What storing a stream produced: its chunks in order and how many bytes were new."""

    chunks: list[tuple[str, int]] = field(default_factory=list)
    new_bytes: int = 0
    total_bytes: int = 0


def _syncfs(folder: Path) -> None:
    """Flush the filesystem holding ``folder`` once (Linux ``syncfs``; ``sync`` elsewhere)."""
    libc = ctypes.CDLL(None, use_errno=True)
    syncfs = getattr(libc, "syncfs", None)
    if syncfs is None:  # pragma: no cover - macOS
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        syncfs(fd)
    finally:
        os.close(fd)


class ChunkWriter:
    """Hash and store chunks on a small thread pool (BLAKE3 and file writes release the GIL).

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
        self._slots = threading.BoundedSemaphore(IN_FLIGHT)
        self._futures: list[Future[tuple[str, int, bool]]] = []
        self._folders: set[Path] = set()

    def submit(self, data: bytes) -> None:
        """Queue one chunk (kept in stream order)."""
        self._slots.acquire()
        future = self._pool.submit(self._put, data)
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)

    def _put(self, data: bytes) -> tuple[str, int, bool]:
        digest = blake3.blake3(data).hexdigest()
        if not self.write:
            return digest, len(data), False
        if not self.blobs.is_local:
            if self.blobs.exists(digest):
                return digest, len(data), False
            self.blobs.put_bytes(data)
            return digest, len(data), True
        target = self.blobs.local_path(digest)
        try:
            os.utime(target)  # reused: young again for garbage collection, like BlobStore
            return digest, len(data), False
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        self._folders.add(target.parent)
        tmp = target.parent / f".tmp-{uuid.uuid4().hex}"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
        return digest, len(data), True

    def finish(self) -> StoredStream:
        """Wait for every chunk, make the written ones durable, and return them in order."""
        out = StoredStream()
        try:
            for future in self._futures:
                digest, size, new = future.result()
                out.chunks.append((digest, size))
                out.total_bytes += size
                out.new_bytes += size if new else 0
        finally:
            self._pool.shutdown(wait=True)
        if self._folders:
            _syncfs(next(iter(self._folders)))
        return out

    def abort(self) -> None:
        """Stop after a failure (chunks already written stay for gc to judge)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def segments(files: list[StreamFile]) -> list[list[StreamFile]]:
    """Group files into streams: runs of small neighbours together, each large file alone."""
    groups: list[list[StreamFile]] = []
    current: list[StreamFile] = []
    for entry in files:
        if entry.listed_size >= OWN_STREAM:
            if current:
                groups.append(current)
                current = []
            groups.append([entry])
        else:
            current.append(entry)
    if current:
        groups.append(current)
    return groups


def store_files(blobs: BlobStore, files: list[StreamFile], write: bool = True) -> StoredStream:
    """Read ``files`` in order, cut them into content-defined chunks, store the chunks.

    Each :class:`StreamFile` gets its size, mode and BLAKE3 as read. Returns the chunks of all
    streams in file order: file ``i``'s bytes follow file ``i - 1``'s.
    """
    writer = ChunkWriter(blobs, write)
    chunker = _chunker()
    try:
        for group in segments(files):
            for chunk in chunker.cut_stream(FileStream(group)):
                writer.submit(bytes(chunk.data))  # the view is reused for the next chunk
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def store_bytes(blobs: BlobStore, data: bytes) -> StoredStream:
    """Cut an in-memory buffer (a frame's parquet file) into chunks and store them."""
    writer = ChunkWriter(blobs)
    view = memoryview(data)
    for chunk in _chunker().cut_buf(view):
        writer.submit(bytes(chunk.data))
    return writer.finish()


def read_chunks(blobs: BlobStore, chunks: list[tuple[str, int]]) -> Iterator[bytes]:
    """Yield each chunk's bytes in order, hash-checked, reading a few ahead on threads."""
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="mlops-chunks") as pool:
        window: list[Future[bytes]] = []
        pending = iter(chunks)
        for digest, _ in pending:
            window.append(pool.submit(blobs.get_bytes, digest))
            if len(window) >= IN_FLIGHT:
                break
        for digest, _ in pending:
            yield window.pop(0).result()
            window.append(pool.submit(blobs.get_bytes, digest))
        for future in window:
            yield future.result()
