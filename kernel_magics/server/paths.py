"""Jupyter paths a client sends, mapped to files inside the Jupyter root (and back).

A client names files relative to the root, as JupyterLab does. Whatever it sends, the answer is a
file inside the root or a :class:`~kernel_magics.errors.ValidationError` that says what is wrong
without repeating the input (a hostile path is not worth echoing) and without the server's own
absolute paths.
"""

from __future__ import annotations

import os
import re
from typing import Any

from kernel_magics.errors import ValidationError

#: Longest file or folder name (bytes) the common filesystems allow (ext4, APFS, NTFS: 255).
NAME_MAX = 255

#: Percent-encoded dots, slashes, backslashes and NUL. Bodies and query strings arrive decoded
#: once; decoding again would let ``%2e%2e%2f`` become ``../``, so such a path is refused.
_ENCODED = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)


def resolve_in_root(root: str, api_path: str) -> str:
    """Return the absolute, resolved file a Jupyter path names inside ``root``.

    Parameters
    ----------
    root : str
        The Jupyter root directory, already resolved (``os.path.realpath``).
    api_path : str
        A path relative to the root, as the client sent it (never decoded again).

    Raises
    ------
    ValidationError
        For an empty path, NUL bytes, percent-encoded dots or separators, absolute paths, ``..``
        segments, drive letters, names longer than :data:`NAME_MAX` bytes, or a path whose
        resolved location (symlinks followed) leaves the root.
    """
    if not (api_path or "").strip():
        raise ValidationError("Give the notebook's path relative to the Jupyter root.")
    if "\x00" in api_path:
        raise ValidationError("A path cannot contain a NUL byte.")
    if _ENCODED.search(api_path):
        raise ValidationError(
            "The path holds a percent-encoded dot, slash or NUL (%2e, %2f, %5c, %00); send the "
            "path itself (the request is decoded once already)."
        )
    norm = api_path.replace("\\", "/")
    parts = norm.split("/")
    if norm.startswith("/") or os.path.isabs(api_path) or ".." in parts or ":" in parts[0]:
        raise ValidationError("Give the path relative to the Jupyter root, without '..'.")
    if any(len(p.encode("utf-8", "surrogateescape")) > NAME_MAX for p in parts):
        raise ValidationError(f"A file or folder name in the path is longer than {NAME_MAX} bytes.")
    target = os.path.realpath(os.path.join(root, *[p for p in parts if p not in ("", ".")]))
    if not inside(root, target):
        raise ValidationError("The path resolves outside the Jupyter root (through a symlink?).")
    return target


def inside(root: str, path: str) -> bool:
    """True when the resolved ``path`` is ``root`` or lies below it."""
    return os.path.commonpath([root, path]) == root


def relative_to_root(root: str, path: str | None) -> str | None:
    """Return the Jupyter path of a file inside ``root`` (None when outside or unknown)."""
    if not path:
        return None
    absolute = os.path.realpath(os.path.join(root, path))
    if not inside(root, absolute):
        return None
    return os.path.relpath(absolute, root).replace(os.sep, "/")


def scrub(message: str, root: str) -> str:
    """Replace the root's absolute path in a message by paths relative to it."""
    if root in ("", os.sep):
        return message
    return message.replace(root + os.sep, "").replace(root, ".")


def scrub_store(message: str, location: Any) -> str:
    """Replace the store's local folders in a message by the variables that name them.

    The store usually lives outside the Jupyter root (``~/.mlops``), so :func:`scrub` leaves its
    paths whole; a client is told ``$MLOPS_HOME/artifacts``, never the server's absolute path.
    """
    home = str(location.home).rstrip(os.sep) if location.home is not None else ""
    artifacts = str(location.artifacts_uri or "").rstrip(os.sep)
    if artifacts.startswith(os.sep) and not (home and artifacts.startswith(home + os.sep)):
        message = message.replace(artifacts, "$MLOPS_ARTIFACTS_URI")
    if home:  # also the artifacts inside it: $MLOPS_HOME/artifacts
        message = message.replace(home, "$MLOPS_HOME")
    return message
