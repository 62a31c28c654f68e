"""The ``%mlops`` line magic and the ``%%mlops`` cell magic (thin: parse, dispatch, report).

``%mlops <subcommand> ...`` and ``%%mlops <subcommand> ...`` look the subcommand up in
:data:`kernel_magics.kernel.magics.subcommands.SUBCOMMANDS` and call its handler, imported on
first use. Each family of subcommands has its module in this package (``runs.py``,
``models.py``, ``deploy.py``, ``schedule.py``, ``status.py``); the tracked cell's handler stays
with the tracked-cell code (``kernel_magics/kernel/track.py``). See
:mod:`kernel_magics.kernel.magics.subcommands` for the handler contract.

User mistakes (``KernelMagicsError`` raised by parsing or by a handler) are shown as
``UsageError: ...`` without a traceback, which also fails the cell (so papermill stops). An
exception raised by the user's own code in a ``%%mlops track`` cell propagates unchanged.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from ...errors import KernelMagicsError
from ..session import CellHistory
from .subcommands import SUBCOMMANDS

#: Attribute set on KernelMagicsErrors raised by the user's code inside a tracked cell.
USER_CODE_MARK = "_km_user_code"


def _usage() -> str:
    width = max(len(name) for name in SUBCOMMANDS)
    lines = ["jupyter-mlops magics. Subcommands:", ""]
    for name, sub in SUBCOMMANDS.items():
        prefix = "%%mlops" if sub.cell else "%mlops "
        lines.append(f"  {prefix} {name.ljust(width)}  {sub.summary}")
    lines += ["", "`%mlops help <subcommand>` shows every flag of one subcommand."]
    return "\n".join(lines)


def full_help() -> str:
    """Return the overview followed by the full help of every subcommand (for ``%mlops?``)."""
    parts = [_usage(), ""]
    for sub in SUBCOMMANDS.values():
        parts += [sub.load_parser().format_help().rstrip(), ""]
    return "\n".join(parts)


class _DocumentedMagic:
    """The registered ``%mlops`` callable, whose help is built when asked.

    IPython's ``%mlops?`` calls ``getdoc()``, so the help lists every subcommand's flags
    without importing their modules when the extension loads.
    """

    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self._fn = fn

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        return self._fn(*args, **kwargs)

    def getdoc(self) -> str:
        """Return the full help (IPython's inspector calls this)."""
        return full_help()


@magics_class
class MlopsMagics(Magics):
    """The ``%mlops`` magics; ``self.history`` records every cell the kernel executes."""

    def __init__(self, shell):
        super().__init__(shell)
        self.history = CellHistory(shell)
        # IPython's decorator types the method as unbound; it is a bound method here.
        documented = _DocumentedMagic(self.mlops)  # type: ignore[misc]
        self.magics["line"]["mlops"] = self.magics["cell"]["mlops"] = documented

    @line_cell_magic
    def mlops(self, line: str, cell: str | None = None) -> Any:  # noqa: D102 - doc set below
        __tracebackhide__ = True  # noqa: F841 - IPython hides frames that set this
        name, _, rest = (line or "").strip().partition(" ")
        name = name or "help"
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            raise UsageError(
                f"Unknown subcommand {name!r}. Choose one of: {', '.join(SUBCOMMANDS)} "
                "(see %mlops help)."
            )
        if sub.cell and cell is None:
            raise UsageError(
                f"{name} is a cell magic: put `%%mlops {name}` on a cell's first line."
            )
        if not sub.cell and cell is not None:
            raise UsageError(f"{name} is a line magic: write `%mlops {name} ...` (one %).")
        try:
            handler = sub.load_handler()
            return handler(self, rest) if cell is None else handler(self, rest, cell)
        except KernelMagicsError as exc:
            if getattr(exc, USER_CODE_MARK, False):
                raise
            raise UsageError(str(exc)) from None

    mlops.__doc__ = _usage()


def handle_help(magics: MlopsMagics, line: str) -> None:
    """Print the overview, or the full help of one subcommand."""
    from ..parsers import help_parser, split_line

    ns = help_parser().parse_args(split_line(line))
    if not ns.subcommand:
        print(_usage())
        print("\nEvery flag:")
        for entry in SUBCOMMANDS.values():
            usage = entry.load_parser().format_usage().strip().removeprefix("usage: ")
            print(f"  {usage}")
        return
    sub = SUBCOMMANDS.get(ns.subcommand)
    if sub is None:
        raise UsageError(f"No subcommand {ns.subcommand!r}; one of {', '.join(SUBCOMMANDS)}.")
    print(sub.load_parser().format_help())


def load_ipython_extension(ipython) -> None:
    """Register the magics and start recording executed cells."""
    magics = MlopsMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("pre_run_cell", magics.history.pre_run_cell)
    ipython._km_magics = magics  # so unload can find it


def unload_ipython_extension(ipython) -> None:
    """Stop recording cells (the magic names stay until the kernel restarts, as in IPython)."""
    magics = getattr(ipython, "_km_magics", None)
    if magics is not None:
        try:
            ipython.events.unregister("pre_run_cell", magics.history.pre_run_cell)
        except ValueError:
            print("kernel_magics was not loaded", file=sys.stderr)
        del ipython._km_magics
