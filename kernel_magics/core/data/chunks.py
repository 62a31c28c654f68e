"""Content-defined chunks: cut a stream of files with FastCDC, store each chunk as a blob.

A version's content is one byte stream (a file; a folder's files one after the other in path
order; a DataFrame's parquet file) cut where FastCDC's rolling hash says, so the cut points
follow the content: an append, or an edit in the middle, changes the chunks around it and
leaves every other chunk, and its blob, as it was. Small files share chunks with their
neighbours instead of costing one blob (and one write) each.

A stream is read in windows of :data:`WINDOW` bytes into a few reused buffers and each window
is cut with ``cut_buf`` (which releases the GIL); the window's last chunk, when the window's
end may have cut it short, is carried into the next window, so the cuts are exactly those of
the whole stream at once. Each window's chunks are hashed and written by
:class:`~.chunk_writer.ChunkWriter` on a thread pool, and a large file's own BLAKE3 is computed
on one more thread, so reading, cutting, hashing and writing overlap.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from io import FileIO
from typing import Any

import blake3

from ..store.blobs import BlobStore
from .chunk_writer import ChunkWriter, Releaser, StoredStream

__all__ = ["StoredStream", "StreamFile", "read_chunks", "segments", "store_bytes", "store_files"]

#: FastCDC's target chunk size. Its real average is this plus the minimum (32 KiB): ~6,500
#: chunks per GB, and an edit costs about one chunk (~160 KiB) of new bytes.
AVG_CHUNK = 128 * 1024
MIN_CHUNK = 32 * 1024
MAX_CHUNK = 512 * 1024
#: A file at least this large is cut into chunks 8 times larger (about 1.25 MiB: ~800 per GB,
#: as restic's). Each chunk is a file, and creating a file costs ~0.1-0.3 ms of kernel time on
#: ext4 here, more than hashing and writing its 160 KiB: at ~6,500 chunks per GB that was a
#: second per GB. An edit then costs a chunk or two (~2.5 MiB), under 4 % of such a file.
LARGE_FILE = 64 * 1024 * 1024
LARGE_AVG, LARGE_MIN, LARGE_MAX = 8 * AVG_CHUNK, 8 * MIN_CHUNK, 8 * MAX_CHUNK
#: Bytes read and cut at once, and how many such buffers may be in flight (read, being hashed
#: or being written): memory stays under BUFFERS x (WINDOW + LARGE_MAX) (80 MiB) whatever the
#: data's size. A buffer holds the carried-over chunk (under LARGE_MAX) and WINDOW new bytes.
WINDOW = 16 * 1024 * 1024
BUFFERS = 4
#: Chunks read ahead when restoring.
IN_FLIGHT = 32
#: Files at least this large are hashed on their own thread (smaller ones as they are read).
HASH_APART = 1024 * 1024


def _chunker(size: int):
    """The FastCDC cutter for a stream of ``size`` bytes (larger chunks for a large file)."""
    from pyfastcdc import FastCDC

    if size >= LARGE_FILE:
        return FastCDC(LARGE_AVG, min_size=LARGE_MIN, max_size=LARGE_MAX)
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


def _set_hash(entry: StreamFile, hasher: blake3.blake3) -> None:
    entry.hash = hasher.hexdigest()


class FileStream:
    """A readable stream of several files one after the other, hashing each as it is read.

    A large file's hash is updated on ``hasher`` (one thread, so in order) while the stream
    reads on; :attr:`jobs` collects the updates that still read the caller's current buffer,
    :attr:`finals` every update and digest, for the caller to wait on (and see any failure).
    """

    def __init__(self, files: list[StreamFile], hasher: ThreadPoolExecutor):
        self.files = files
        self.jobs: list[Future[Any]] = []
        self.finals: list[Future[Any]] = []
        self._pool = hasher
        self._index = -1
        self._handle: FileIO | None = None
        self._hasher: blake3.blake3 | None = None
        self._apart = False

    def _next_file(self) -> bool:
        self._finish_file()
        self._index += 1
        if self._index >= len(self.files):
            return False
        entry = self.files[self._index]
        handle = self._handle = FileIO(entry.source, "rb")
        entry.mode = os.fstat(handle.fileno()).st_mode & 0o777
        if entry.listed_size >= HASH_APART and hasattr(os, "posix_fadvise"):
            # Read once, front to back: the kernel doubles its read-ahead, which took a cold
            # 1 GB read from ~1.4 s to ~0.8 s here while the chunks were being written.
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        self._hasher = blake3.blake3()
        self._apart = entry.listed_size >= HASH_APART
        return True

    def _finish_file(self) -> None:
        if self._handle is None:
            return
        self._handle.close()
        self._handle = None
        entry, hasher = self.files[self._index], self._hasher
        assert hasher is not None
        if self._apart:
            self.finals.append(self._pool.submit(_set_hash, entry, hasher))
        else:
            entry.hash = hasher.hexdigest()

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` from the current file, moving on to the next one at its end."""
        while True:
            if self._handle is None and not self._next_file():
                return 0
            assert self._handle is not None and self._hasher is not None
            count = self._handle.readinto(buffer)
            if count:
                if self._apart:
                    job = self._pool.submit(self._hasher.update, buffer[:count])
                    self.jobs.append(job)
                    self.finals.append(job)  # checked at the end, like the digests
                else:
                    self._hasher.update(buffer[:count])
                self.files[self._index].size += count
                return count
            self._finish_file()

    def close(self) -> None:
        """Close the open file, if any (after a failure)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class _Buffers:
    """Up to :data:`BUFFERS` reusable windows; :meth:`take` waits for one to be given back."""

    def __init__(self):
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._made = 0

    def take(self) -> bytearray:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            if self._made < BUFFERS:
                self._made += 1
                return bytearray(WINDOW + LARGE_MAX)
        return self._free.get()

    def give(self, buffer: bytearray) -> None:
        self._free.put(buffer)


def _cut_window(chunker, view: memoryview, eof: bool) -> tuple[list[tuple[int, int]], int]:
    """Cut ``view``; return the exact chunks and where the carried-over rest starts.

    A chunk that ends at the window's end (and is not of the maximum size) may have been cut
    short by the window, so unless the stream ends here it is cut again with what follows.
    """
    cuts = [(chunk.offset, chunk.length) for chunk in chunker.cut_buf(view)]
    if not eof and cuts:
        offset, length = cuts[-1]
        if offset + length == len(view) and length < chunker.max_size:
            cuts.pop()
            return cuts, offset
    return cuts, len(view)


def _store_stream(chunker, stream: FileStream, writer: ChunkWriter, buffers: _Buffers) -> None:
    carry = b""
    eof = False
    while not eof:
        buffer = buffers.take()
        view = memoryview(buffer)
        filled = len(carry)
        view[:filled] = carry
        stream.jobs = []
        while filled < len(buffer):
            count = stream.readinto(view[filled:])
            if not count:
                eof = True
                break
            filled += count
        cuts, rest = _cut_window(chunker, view[:filled], eof)
        carry = bytes(view[rest:filled])
        # the buffer is free again once the chunks are written, the hash updates are done and
        # the carry is copied out (this thread)
        release = Releaser(2 + len(stream.jobs), partial(buffers.give, buffer))
        for job in stream.jobs:
            job.add_done_callback(release.done)
        writer.submit(view, cuts, release.done)
        release.done()


def store_files(blobs: BlobStore, files: list[StreamFile], write: bool = True) -> StoredStream:
    """Read ``files`` in order, cut them into content-defined chunks, store the chunks.

    Each :class:`StreamFile` gets its size, mode and BLAKE3 as read. Returns the chunks of all
    streams in file order: file ``i``'s bytes follow file ``i - 1``'s.
    """
    writer = ChunkWriter(blobs, write)
    hasher = ThreadPoolExecutor(1, thread_name_prefix="mlops-file-hash")
    buffers = _Buffers()
    streams: list[FileStream] = []
    try:
        for group in segments(files):
            streams.append(FileStream(group, hasher))
            # a large file is alone in its stream; a run of small files is cut finely
            chunker = _chunker(group[0].listed_size if len(group) == 1 else 0)
            try:
                _store_stream(chunker, streams[-1], writer, buffers)
            finally:
                streams[-1].close()
        for stream in streams:
            for job in stream.finals:
                job.result()
    except BaseException:
        writer.abort()
        hasher.shutdown(wait=True, cancel_futures=True)
        raise
    hasher.shutdown(wait=True)
    return writer.finish()


def store_bytes(blobs: BlobStore, data: bytes) -> StoredStream:
    """Cut an in-memory buffer (a frame's parquet file) into chunks and store them."""
    writer = ChunkWriter(blobs)
    view = memoryview(data)
    batch: list[tuple[int, int]] = []
    batch_bytes = 0
    for chunk in _chunker(len(data)).cut_buf(view):
        batch.append((chunk.offset, chunk.length))
        batch_bytes += chunk.length
        if batch_bytes >= WINDOW:
            writer.submit(view, batch, lambda: None)
            batch, batch_bytes = [], 0
    if batch:
        writer.submit(view, batch, lambda: None)
    return writer.finish()


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


def read_chunks(blobs: BlobStore, chunks: list[tuple[str, int]]) -> Iterator[bytes]:
    """Yield each chunk's bytes in order, hash-checked, reading a few ahead on threads."""
    with ThreadPoolExecutor(4, thread_name_prefix="mlops-chunks") as pool:
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
