"""Tracebacks as stored on failed runs: they start at the user's code, not at ours.

An exception raised in a tracked cell travels through ``kernel_magics`` frames (the magic that
runs the cell, ``exec``) before it reaches the user's lines; a person reading the run's error
in the panel wants the first line to be their cell (issue 11).
"""

from __future__ import annotations

import os
import traceback
from types import TracebackType

#: Frames from files under this folder are ours.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _ours(tb: TracebackType) -> bool:
    filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
    return filename.startswith(PACKAGE_DIR + os.sep)


def user_traceback(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    """Format an exception without the leading ``kernel_magics`` frames.

    Frames of ours *after* the user's first frame stay (a ``log_param`` the user called that
    refused a value is part of the story). When every frame is ours, all of them are kept, so
    an error of our own still shows where it happened.

    Parameters
    ----------
    exc_type, exc, tb
        What ``sys.exc_info()`` (or ``__exit__``) gives.

    Returns
    -------
    str
        The text ``traceback.format_exception`` would give, from the first user frame on.
    """
    first = tb
    while first is not None and _ours(first):
        first = first.tb_next
    return "".join(traceback.format_exception(exc_type, exc, first if first is not None else tb))
