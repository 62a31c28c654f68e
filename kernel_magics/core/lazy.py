"""Lazy package attributes (PEP 562), so importing a package does not import its modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that imports ``table[name]`` on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (relative module names in ``table`` resolve against it).
    table : mapping of str to str
        Attribute name -> module that defines it (``".api"`` or an absolute name).

    Returns
    -------
    callable
        Assign it to ``__getattr__`` in the package's ``__init__``.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module, package), name)

    return __getattr__
