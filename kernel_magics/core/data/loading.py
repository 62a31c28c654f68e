"""Find a dataset version by ``name@version`` and get its content back, bit for bit.

Files and folders are restored into a cache folder under the store home
(``.mlops/cache/datasets/<hash>``), written under a temporary name and renamed into place, so a
reader never sees half a restore and two processes restoring the same version at once are safe.
The cache is bounded, least recently used first (:mod:`.restore_cache`).
Cached files are read-only: a path handed out by :func:`load_dataset` keeps naming the version's
content. Every chunk is hash-checked on read and every file is checked against its BLAKE3.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3

from ...errors import BlobIntegrityError, ConflictError, ValidationError
from ..names import DATASET_FILE, DATASET_FOLDER, DATASET_FRAME
from .chunks import read_chunks
from .manifest import Manifest, check_relative
from .restore_cache import cache_root, mark_used, prune_cache

if TYPE_CHECKING:
    from ..store import Store
    from ..store.dataset_versions import DatasetVersionRecord

TABULAR_SUFFIXES = (".csv", ".tsv", ".parquet")


def parse_ref(ref: str) -> tuple[str, str]:
    """Split ``"train@3"`` into ``("train", "3")``; a bare name means ``latest``.

    Raises
    ------
    ValidationError
        For an empty name or version.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise ValidationError(
            "Name a dataset version as NAME@VERSION, e.g. train@3 or train@latest."
        )
    name, sep, selector = ref.strip().rpartition("@")
    if not sep:
        name, selector = selector, "latest"
    if not name or not selector:
        raise ValidationError(
            f"{ref!r} is not NAME@VERSION: write train@3, train@latest or train@<hash prefix>."
        )
    if not selector.isdigit() and selector != "latest":
        if len(selector) < 4 or any(c not in "0123456789abcdefABCDEF" for c in selector):
            raise ValidationError(
                f"Version {selector!r} of {name!r} is neither a number, 'latest' nor a hash "
                "prefix of at least 4 hex characters."
            )
    return name, selector


def resolve_version(store: Store, ref: str) -> DatasetVersionRecord:
    """Return the version ``ref`` names: ``train@3``, ``train@latest`` or ``train@<hash prefix>``.

    Raises
    ------
    DatasetNotFoundError
        When there is no such dataset or version (the message lists the versions there are).
    ValidationError
        For a malformed reference or an ambiguous hash prefix.
    """
    name, selector = parse_ref(ref)
    return store.dataset_versions.resolve(name, selector)


def read_manifest(store: Store, record: DatasetVersionRecord) -> Manifest:
    """The manifest of a stored version (its files and chunks).

    Raises
    ------
    ConflictError
        When the version was recorded by reference only.
    """
    if not record.stored or record.manifest_hash is None:
        raise ConflictError(
            f"{record.ref} was recorded by reference only (store=False, or over the store "
            f"limit): its content is not in the store. It was read from {record.source}."
        )
    return Manifest.from_bytes(store.blobs.get_bytes(record.manifest_hash))


def write_files(store: Store, manifest: Manifest, root: Path, read_only: bool = False) -> None:
    """Write a manifest's files under ``root`` (which must exist), checking each file's hash.

    ``read_only`` clears the files' write bits (the restore cache).

    Raises
    ------
    BlobIntegrityError
        When a restored file does not hash to what was stored.
    """
    chunks = read_chunks(store.blobs, manifest.chunks)
    pending = memoryview(b"")
    made: set[str] = set()
    clear = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH if read_only else 0
    for entry in manifest.files:
        target = os.path.join(root, check_relative(entry.path))
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        hasher, left = blake3.blake3(), entry.size
        with open(target, "wb") as fh:
            while left:
                if not pending:
                    pending = memoryview(next(chunks))
                piece = pending[:left]
                fh.write(piece)
                hasher.update(piece)
                pending, left = pending[len(piece) :], left - len(piece)
        if hasher.hexdigest() != entry.hash:
            raise BlobIntegrityError(
                f"Restored file {entry.path!r} does not match its stored hash; the store is "
                "damaged. Log the dataset again from its source."
            )
        os.chmod(target, (entry.mode & 0o777 or 0o644) & ~clear)


def restore(store: Store, record: DatasetVersionRecord) -> Path:
    """Restore a file or folder version into the cache (once) and return its local path.

    A file comes back under its own file name inside the version's cache folder; a folder is
    the cache folder itself. A frame comes back as its parquet file.
    """
    folder = cache_root(store) / record.hash
    manifest = None
    if not folder.exists():
        manifest = read_manifest(store, record)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.parent / f".tmp-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            write_files(store, manifest, staging, read_only=True)
            os.replace(staging, folder)
        except OSError:
            if not folder.exists():
                raise
        finally:
            # left over when another process restored it first (read-only files in a writable
            # folder can be removed)
            shutil.rmtree(staging, ignore_errors=True)
        prune_cache(store, keep=record.hash)  # bounded: the least recently used go first
    else:
        mark_used(folder)
    if record.kind == DATASET_FOLDER:
        return folder
    if manifest is not None:
        return folder / manifest.files[0].path
    return next(p for p in folder.iterdir() if not p.name.startswith("."))


def load_dataset(ref: str, *, as_path: bool = False, store: Store | None = None) -> Any:
    """Get a dataset version back: a DataFrame for tabular data, else a local path.

    Parameters
    ----------
    ref : str
        ``train@3``, ``train@latest``, ``train@<hash prefix>`` or ``train`` (the latest).
    as_path : bool
        Return the restored file's path even for tabular data (a frame: its parquet file).
    store : Store, optional
        The resolved default store when omitted.

    Returns
    -------
    pandas.DataFrame or pathlib.Path
        A DataFrame for a logged DataFrame and for CSV, TSV and parquet files; the restored
        path (read-only, inside the store's cache) for other files and for folders.

    Raises
    ------
    DatasetNotFoundError
        When the version does not exist.
    ConflictError
        When it was recorded by reference only.
    """
    from ..store import open_store

    store = store or open_store()
    record = resolve_version(store, ref)
    if record.kind == DATASET_FRAME and not as_path:
        import pandas as pd
        import pyarrow as pa

        manifest = read_manifest(store, record)
        data = b"".join(read_chunks(store.blobs, manifest.chunks))
        return pd.read_parquet(pa.BufferReader(data))
    if not record.stored:
        read_manifest(store, record)  # raises, naming where the data was read from
    path = restore(store, record)
    if as_path or record.kind == DATASET_FOLDER:
        return path
    suffix = path.suffix.lower()
    if record.kind in (DATASET_FILE, DATASET_FRAME) and suffix in TABULAR_SUFFIXES:
        import pandas as pd

        if suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    return path


def materialize(
    store: Store, ref: str, dest: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a version's content to ``dest`` (``mlops datasets get``); return what was written.

    A file (or a frame's parquet file) goes to ``dest``, or into it under its own name when
    ``dest`` is an existing folder; a folder's files go under ``dest``.

    Raises
    ------
    ConflictError
        When a file to write exists and ``overwrite`` is False, or the version is a reference.
    """
    record = resolve_version(store, ref)
    manifest = read_manifest(store, record)
    target = Path(dest)
    if record.kind == DATASET_FOLDER:
        if target.exists() and not target.is_dir():
            raise ConflictError(f"{target} is a file; give a folder to get {record.ref} into.")
        clashes = [f.path for f in manifest.files if (target / f.path).exists()]
        if clashes and not overwrite:
            raise ConflictError(
                f"{len(clashes)} file(s) of {record.ref} already exist under {target} "
                f"(e.g. {clashes[0]}); choose an empty folder or pass --overwrite."
            )
        target.mkdir(parents=True, exist_ok=True)
        write_files(store, manifest, target)
        return target
    name = manifest.files[0].path
    if record.kind == DATASET_FRAME:
        name = f"{record.dataset}.parquet"
    file = target / name if target.is_dir() else target
    if file.exists() and not overwrite:
        raise ConflictError(f"{file} already exists; choose another path or pass --overwrite.")
    file.parent.mkdir(parents=True, exist_ok=True)
    staging = file.parent / f".tmp-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        write_files(store, manifest, staging)
        os.replace(staging / manifest.files[0].path, file)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return file
