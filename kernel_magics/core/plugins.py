"""Swappable parts chosen by name from entry points, the way papermill picks its engines.

Three groups exist:

* ``kernel_magics.executors``: where ``mlops run`` executes notebooks (``local``, ``dask``);
* ``kernel_magics.schedule_executors``: what a scheduler does with a claimed slot;
* ``kernel_magics.serving_backends``: what ``mlops deploy`` starts (``local``).

A third-party package adds an implementation by declaring an entry point in one of these groups
(``[project.entry-points."kernel_magics.executors"] k8s = "my_pkg:K8sExecutor"``); our own are
declared the same way in ``pyproject.toml``.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ..errors import PluginNotFoundError

EXECUTORS = "kernel_magics.executors"
SCHEDULE_EXECUTORS = "kernel_magics.schedule_executors"
SERVING_BACKENDS = "kernel_magics.serving_backends"


@cache
def _group(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def available(group: str) -> list[str]:
    """Return the names registered in an entry-point ``group``, sorted."""
    return sorted(_group(group))


def load(group: str, name: str) -> Any:
    """Return the object (usually a class) registered as ``name`` in ``group``.

    Raises
    ------
    PluginNotFoundError
        When nothing is registered under that name; the message lists what is.
    """
    entry = _group(group).get(name)
    if entry is None:
        known = ", ".join(available(group)) or "none"
        raise PluginNotFoundError(
            f"No {group.rsplit('.', 1)[-1].replace('_', ' ')} named {name!r} is installed "
            f"(known: {known}). A package provides one with an entry point in the group {group!r}."
        )
    return entry.load()
