"""Notebook versions: every saved state of a notebook a run used, and diffs between them.

A version is the notebook file's bytes stored as a content-addressed blob plus a row
``(path, blob_hash)`` in ``notebook_versions``; recording the same content twice for one path
returns the existing version. ``path`` is the notebook's absolute, resolved filesystem path, so
the kernel (which knows the file) and the server (which maps a Jupyter path to a file) agree.

The diff between two versions is nbdime's, shaped cell by cell (:mod:`.notebook_diff`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConflictError, NotebookVersionNotFoundError, NotFoundError, ValidationError
from .notebook_diff import diff_notebooks, summarize_output
from .store import Store
from .store.notebooks import NotebookVersion

__all__ = [
    "NotebookVersion",
    "NotebookVersionNotFoundError",
    "diff_notebooks",
    "get_notebook_content",
    "get_notebook_version",
    "list_notebook_versions",
    "normalize_notebook_path",
    "parse_notebook",
    "read_notebook_file",
    "read_notebook_version_bytes",
    "record_notebook_version",
    "restore_notebook_version",
    "summarize_output",
]


def normalize_notebook_path(path: str | os.PathLike[str]) -> str:
    """Return the absolute, symlink-resolved path notebook versions are keyed by."""
    return os.path.realpath(os.fspath(path))


def record_notebook_version(store: Store, path: str | os.PathLike[str]) -> int:
    """Store the current content of a notebook file as a version; return the version id.

    Parameters
    ----------
    store : Store
        The store to write to.
    path : path-like
        The notebook file.

    Returns
    -------
    int
        The id of the (new or existing) version with exactly this content.

    Raises
    ------
    ValidationError
        When ``path`` is not a readable file.
    """
    key = normalize_notebook_path(path)
    if not os.path.isfile(key):
        raise ValidationError(f"Cannot record a version of {str(path)!r}: no such file.")
    return store.notebooks.record(key)


def list_notebook_versions(
    store: Store, paths: str | os.PathLike[str] | Sequence[str], runs_per_version: int = 20
) -> list[NotebookVersion]:
    """Return the versions of a notebook, newest first, each with the runs that used it.

    Parameters
    ----------
    store : Store
        The store to read.
    paths : path-like or sequence of str
        The notebook's path; several spellings (absolute and relative) may be given, and the
        versions recorded under any of them are returned.
    runs_per_version : int
        At most this many run ids per version.
    """
    if isinstance(paths, (str, os.PathLike)):
        keys = [normalize_notebook_path(paths)]
    else:
        keys = list(dict.fromkeys(str(p) for p in paths))
    return store.notebooks.list(keys, runs_per_version)


def get_notebook_version(store: Store, version_id: int) -> NotebookVersion:
    """Return one version's row.

    Raises
    ------
    NotebookVersionNotFoundError
        When no version has that id.
    """
    return store.notebooks.get(version_id)


def read_notebook_version_bytes(store: Store, version_id: int) -> bytes:
    """Return the stored bytes of a version (hash-checked by the blob store)."""
    return store.notebooks.read_bytes(version_id)


def parse_notebook(data: bytes | str, origin: str = "notebook") -> dict[str, Any]:
    """Parse notebook JSON into a plain dict (nbformat v4 layout).

    Raises
    ------
    ValidationError
        When the content is not a notebook.
    """
    try:
        content = json.loads(data)
    except ValueError as exc:
        raise ValidationError(f"{origin} is not valid notebook JSON: {exc}") from None
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise ValidationError(f"{origin} is not a notebook (no 'cells' list).")
    return content


def get_notebook_content(store: Store, version_id: int) -> dict[str, Any]:
    """Return a version's notebook content as a dict."""
    return parse_notebook(read_notebook_version_bytes(store, version_id), f"Version {version_id}")


def read_notebook_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a notebook from disk.

    Raises
    ------
    NotFoundError
        When the file does not exist.
    ValidationError
        When it is not a notebook.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"No notebook at {os.fspath(path)!r}.") from None
    except IsADirectoryError:
        raise ValidationError(f"{os.fspath(path)!r} is a folder, not a notebook.") from None
    return parse_notebook(data, os.path.basename(os.fspath(path)))


def restore_notebook_version(
    store: Store, version_id: int, target: str | os.PathLike[str] | None = None, *,
    next_to: str | os.PathLike[str] | None = None,
) -> str:  # fmt: skip
    """Write a version's content to a new file; never overwrite an existing one.

    Parameters
    ----------
    store : Store
        The store to read the version from.
    version_id : int
        The version to restore.
    target : path-like, optional
        Exact file to create. It must not exist.
    next_to : path-like, optional
        When ``target`` is omitted, create ``<stem>.v<id>.ipynb`` (or ``<stem>.v<id>-2.ipynb``...)
        in the folder of this path; defaults to the version's own path.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ConflictError
        When ``target`` already exists.
    """
    version = get_notebook_version(store, version_id)
    data = store.blobs.get_bytes(version.blob_hash)
    if target is not None:
        candidates = [Path(target)]
    else:
        base = Path(next_to or version.path)
        stem = base.name[: -len(".ipynb")] if base.name.endswith(".ipynb") else base.name
        name = f"{stem}.v{version_id}"
        candidates = [base.parent / f"{name}.ipynb"]
        candidates += [base.parent / f"{name}-{n}.ipynb" for n in range(2, 100)]
    for path in candidates:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return str(path)
    raise ConflictError(
        f"{candidates[0]} already exists; choose another name (restore never overwrites)."
        if target is not None
        else f"Too many restored copies of version {version_id} next to {candidates[0]}."
    )
