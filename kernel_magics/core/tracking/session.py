"""The notebook a run belongs to when it starts inside a Jupyter notebook session.

``%%mlops track`` cells record their notebook and its version; a run started with
``mlops.start_run()`` in the same notebook must count as that notebook's run too (issue 11: the
demo's API runs were missing from the panel's "This notebook"). Jupyter server tells the kernel
its notebook with ``JPY_SESSION_NAME`` (see :func:`kernel_magics.core.capture.locate_notebook`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ...errors import KernelMagicsError

if TYPE_CHECKING:
    from ..store import Store

_version_cache: dict[tuple[str, str, int, int], int] = {}


def notebook_version_id(store: Store, path: str) -> int:
    """Record the notebook file as a version, skipping the hash when the file did not change.

    Parameters
    ----------
    store : Store
        Where the version is recorded.
    path : str
        The notebook file.

    Returns
    -------
    int
        The id of the (new or existing) notebook version with the file's content.
    """
    from ..notebooks import record_notebook_version

    stat = os.stat(path)
    key = (store.location.store_uri, path, stat.st_mtime_ns, stat.st_size)
    cached = _version_cache.get(key)
    if cached is None:
        cached = record_notebook_version(store, path)
        if len(_version_cache) > 64:
            _version_cache.clear()
        _version_cache[key] = cached
    return cached


def session_notebook(store: Store) -> tuple[str | None, int | None, str | None]:
    """Return ``(path, version id, problem)`` of the notebook this kernel serves.

    ``(None, None, None)`` outside a notebook session (a script, a terminal): nothing to record
    and nothing to complain about. ``problem`` says why a known notebook's version could not
    be recorded (the path is still returned: the run belongs to that notebook).
    """
    from ..capture import locate_notebook

    location = locate_notebook()
    if location.path is None:
        return None, None, None
    try:
        return location.path, notebook_version_id(store, location.path), None
    except (OSError, KernelMagicsError) as exc:
        return location.path, None, f"could not record the notebook version: {exc}"
