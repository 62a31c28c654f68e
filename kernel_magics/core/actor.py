"""Who is making a change: the Jupyter user of a server request, else the OS user.

The audit trail (:mod:`kernel_magics.core.store.audit`) records :func:`current_actor` with every
change. The server extension sets the request's Jupyter user in one place (its base handler's
``prepare``); everything else (the CLI, a notebook's kernel, the scheduler) acts as the OS user.
A context variable rather than a global keeps two concurrent requests apart: each tornado
request runs in its own asyncio task, which has its own copy of the context.
"""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["acting_as", "current_actor", "os_user", "set_actor"]

_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("mlops_actor", default=None)


def os_user() -> str:
    """Return the operating-system user running this process (``unknown`` if it has none).

    ``getpass.getuser`` reads ``LOGNAME``/``USER`` first and falls back to the password
    database; a container user without an entry there raises, which must not stop a change.
    """
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def current_actor() -> str:
    """Return who the current change is made by: the acting user if set, else the OS user."""
    return _actor.get() or os_user()


def set_actor(name: str | None) -> contextvars.Token[str | None]:
    """Set the acting user for the rest of the current context (a server request's task).

    Returns the token :meth:`contextvars.ContextVar.reset` takes to undo it.
    """
    return _actor.set(name or None)


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Make changes inside the block as ``name`` (restores the previous actor on exit).

    Parameters
    ----------
    name : str
        The user to record, e.g. the Jupyter user a request came from.
    """
    token = set_actor(name)
    try:
        yield
    finally:
        _actor.reset(token)
