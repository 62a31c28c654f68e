"""Notebook versions: every saved state of a notebook a run used, and diffs between them.

A version is the notebook file's bytes stored as a content-addressed blob plus a row
``(path, blob_hash)`` in ``notebook_versions``; recording the same content twice for one path
returns the existing version. ``path`` is the notebook's absolute, resolved filesystem path, so
the kernel (which knows the file) and the server (which maps a Jupyter path to a file) agree.

The diff is cell by cell: cells are aligned with :class:`difflib.SequenceMatcher`, by cell id
when both notebooks carry ids (nbformat >= 4.5, what JupyterLab writes), else by source; each
aligned pair is ``unchanged`` or ``changed`` (source and/or outputs), and the rest are ``added``
or ``removed``.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConflictError, NotebookVersionNotFoundError, NotFoundError, ValidationError
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

#: Outputs longer than this (characters) are cut in diffs: a diff is for reading, not storage.
MAX_OUTPUT_TEXT = 2000


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


# --- diff ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def summarize_output(output: dict[str, Any]) -> dict[str, Any]:
    """Reduce one cell output to what a reader compares: its type, text and media types."""
    kind = output.get("output_type", "unknown")
    media: list[str] = []
    if kind == "stream":
        text = _text(output.get("text"))
    elif kind == "error":
        text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    else:
        data = output.get("data") or {}
        media = sorted(k for k in data if k != "text/plain")
        text = _text(data.get("text/plain", ""))
        if any(m.startswith("image/") for m in media) and text.startswith("<"):
            text = ""  # "<Figure size ...>" / "<IPython...Image object>" says nothing
        for mime in media:
            if mime.startswith("image/"):
                from .store.blobs import hash_bytes

                digest = hash_bytes(_text(data[mime]).encode())[:10]
                text = f"{text}\n[{mime} {digest}]" if text else f"[{mime} {digest}]"
    if len(text) > MAX_OUTPUT_TEXT:
        text = text[:MAX_OUTPUT_TEXT] + f"... ({len(text) - MAX_OUTPUT_TEXT} more characters)"
    return {"output_type": kind, "text": text, "media": media}


def _line_diff(a: str, b: str) -> list[dict[str, str]]:
    a_lines, b_lines = a.splitlines(), b.splitlines()
    ops: list[dict[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a_lines, b=b_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops += [{"op": " ", "text": line} for line in a_lines[i1:i2]]
            continue
        ops += [{"op": "-", "text": line} for line in a_lines[i1:i2]]
        ops += [{"op": "+", "text": line} for line in b_lines[j1:j2]]
    return ops


def _cell_view(cell: dict[str, Any]) -> dict[str, Any]:
    outputs = [summarize_output(o) for o in cell.get("outputs") or []]
    return {
        "cell_type": cell.get("cell_type", "code"),
        "source": _text(cell.get("source")),
        "outputs": outputs,
        "id": cell.get("id"),
    }


def _entry(status: str, a: dict | None, b: dict | None, ai: int | None, bi: int | None) -> dict:
    source_a = a["source"] if a else ""
    source_b = b["source"] if b else ""
    outputs_a = a["outputs"] if a else []
    outputs_b = b["outputs"] if b else []
    return {
        "status": status,
        "cell_type": (b or a or {}).get("cell_type", "code"),
        "a_index": ai,
        "b_index": bi,
        "source_changed": a is not None and b is not None and source_a != source_b,
        "outputs_changed": a is not None and b is not None and outputs_a != outputs_b,
        "source_a": source_a,
        "source_b": source_b,
        "source_diff": _line_diff(source_a, source_b),
        "outputs_a": outputs_a,
        "outputs_b": outputs_b,
    }


def _pair(a: dict, b: dict, ai: int, bi: int) -> dict:
    same = a["source"] == b["source"] and a["outputs"] == b["outputs"]
    same = same and a["cell_type"] == b["cell_type"]
    return _entry("unchanged" if same else "changed", a, b, ai, bi)


def diff_notebooks(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Compare two notebooks cell by cell.

    Parameters
    ----------
    a, b : dict
        Notebook contents (nbformat v4 dicts), ``a`` the older one.

    Returns
    -------
    dict
        ``{"cells": [...], "summary": {"added", "removed", "changed", "unchanged"}}``; each cell
        entry has ``status``, ``cell_type``, ``a_index``/``b_index``, ``source_changed``,
        ``outputs_changed``, both sources, a line diff of the source (``op`` is ``" "``, ``"-"``
        or ``"+"``) and both output summaries.
    """
    cells_a = [_cell_view(c) for c in a.get("cells", [])]
    cells_b = [_cell_view(c) for c in b.get("cells", [])]
    by_id = all(c["id"] for c in cells_a + cells_b) and bool(cells_a and cells_b)
    key_a = [c["id"] if by_id else (c["cell_type"], c["source"]) for c in cells_a]
    key_b = [c["id"] if by_id else (c["cell_type"], c["source"]) for c in cells_b]
    entries: list[dict] = []
    matcher = difflib.SequenceMatcher(a=key_a, b=key_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                entries.append(_pair(cells_a[i], cells_b[j], i, j))
            continue
        # An edited cell shows up as a replaced block; pair cells that still look alike.
        left, right = list(range(i1, i2)), list(range(j1, j2))
        while left or right:
            if left and right and _similar(cells_a[left[0]], cells_b[right[0]]):
                entries.append(_pair(cells_a[left[0]], cells_b[right[0]], left[0], right[0]))
                left, right = left[1:], right[1:]
            elif left and (not right or len(left) >= len(right)):
                entries.append(_entry("removed", cells_a[left[0]], None, left[0], None))
                left = left[1:]
            else:
                entries.append(_entry("added", None, cells_b[right[0]], None, right[0]))
                right = right[1:]
    summary = {k: 0 for k in ("added", "removed", "changed", "unchanged")}
    for entry in entries:
        summary[entry["status"]] += 1
    return {"cells": entries, "summary": summary}


def _similar(a: dict, b: dict) -> bool:
    if a["cell_type"] != b["cell_type"]:
        return False
    if not a["source"] and not b["source"]:
        return True
    return difflib.SequenceMatcher(a=a["source"], b=b["source"]).quick_ratio() >= 0.5
