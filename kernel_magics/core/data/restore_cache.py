"""The restore cache: where file and folder versions are restored for :func:`load_dataset`.

Each restored version is a folder ``<store home>/cache/datasets/<version hash>``. The cache is
bounded: after each new restore, the least recently used entries are removed until the cache
is under its limit (``MLOPS_DATASET_CACHE_LIMIT``, else ``[datasets] cache_limit`` in
``.mlops/config.toml``, else 10 GiB), never the entry just restored; a later ``load_dataset``
of an evicted version restores it again. ``mlops gc`` also removes the entries of versions
that are no longer in the store.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .storing import dataset_setting, parse_size

if TYPE_CHECKING:
    from ..store import Store

DEFAULT_CACHE_LIMIT = 10 * 1024**3
CACHE_LIMIT_ENV = "MLOPS_DATASET_CACHE_LIMIT"


def cache_root(store: Store) -> Path:
    """Where restored versions are kept: ``<store home>/cache/datasets``."""
    home = store.location.home
    base = home if home is not None else Path.home() / ".cache" / "jupyter-mlops"
    return base / "cache" / "datasets"


def cache_limit(store: Store) -> int:
    """Bytes the restore cache may hold (see the module docstring for where it is set)."""
    if os.environ.get(CACHE_LIMIT_ENV):
        return parse_size(os.environ[CACHE_LIMIT_ENV], CACHE_LIMIT_ENV)
    value, where = dataset_setting(store, "cache_limit")
    return DEFAULT_CACHE_LIMIT if value is None else parse_size(value, where)


def mark_used(folder: Path) -> None:
    """Make a cache entry the most recently used (eviction goes by the folder's mtime)."""
    try:
        os.utime(folder)
    except OSError:  # removed meanwhile by another process: the caller restores it again
        pass


@dataclass
class CachePrune:
    """What a prune removed (or would remove): entries by version hash, and their bytes."""

    gone: list[str] = field(default_factory=list)
    evicted: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    kept_bytes: int = 0


def _entries(root: Path) -> list[tuple[str, Path, float, int]]:
    """``(hash, folder, mtime, bytes)`` of each finished entry, least recently used first."""
    out = []
    try:
        listing = list(os.scandir(root))
    except FileNotFoundError:
        return []
    for entry in listing:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue  # a restore or a removal in progress
        size = 0
        for folder, _, names in os.walk(entry.path):
            for name in names:
                try:
                    size += os.lstat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    pass
        out.append((entry.name, Path(entry.path), entry.stat().st_mtime, size))
    return sorted(out, key=lambda item: item[2])


def _remove(folder: Path) -> None:
    # renamed away first, so no reader sees a half-removed version under its hash
    doomed = folder.parent / f".del-{uuid.uuid4().hex}"
    try:
        os.replace(folder, doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def prune_cache(
    store: Store,
    *,
    known: set[str] | None = None,
    keep: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
) -> CachePrune:
    """Remove the restore cache's entries of versions not in ``known``, then the least used.

    Parameters
    ----------
    store : Store
        Whose cache.
    known : set of str, optional
        Hashes of the stored versions; entries of other hashes are removed. None skips that
        step (eviction by size only).
    keep : str, optional
        A hash never evicted (the entry just restored).
    limit : int, optional
        Bytes to stay under; :func:`cache_limit` by default.
    dry_run : bool
        Only report what would be removed.
    """
    limit = cache_limit(store) if limit is None else limit
    result = CachePrune()
    live = []
    for digest, folder, mtime, size in _entries(cache_root(store)):
        if known is not None and digest not in known:
            result.gone.append(digest)
            result.freed_bytes += size
            if not dry_run:
                _remove(folder)
        else:
            live.append((digest, folder, mtime, size))
    total = sum(size for *_, size in live)
    for digest, folder, _, size in live:
        if total <= limit:
            break
        if digest == keep:
            continue
        result.evicted.append(digest)
        result.freed_bytes += size
        total -= size
        if not dry_run:
            _remove(folder)
    result.kept_bytes = total
    return result


def stored_hashes(store: Store) -> set[str]:
    """The hashes of every stored dataset version (what the cache may keep)."""
    hashes: set[str] = set()
    for latest, _, _ in store.dataset_versions.latest_per_dataset():
        hashes.update(r.hash for r in store.dataset_versions.versions(latest.dataset) if r.stored)
    return hashes


def collect_cache(
    store: Store, dry_run: bool = False, without: set[str] | None = None
) -> CachePrune:
    """``mlops gc``'s part: drop entries of versions gone from the store, then bound the cache.

    ``without`` names hashes to treat as gone already (versions a dry run would drop).
    """
    known = stored_hashes(store) - (without or set())
    return prune_cache(store, known=known, dry_run=dry_run)
