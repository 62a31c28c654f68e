"""Process hooks: SIGTERM and uncaught exceptions end the active runs with the right status.

A script that forgot ``end_run()`` still ends ``finished`` at exit (as MLflow does), ``failed``
when an uncaught exception ends it, ``killed`` on SIGTERM; attached runs are only flushed.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading

from ..names import FAILED, FINISHED, KILLED
from ..store.db import run_or_defer

# Imported before our atexit hook is registered, so its final flush runs after the runs ended
# here (atexit runs hooks last-registered first).
from ..store.writer import close_all as _close_writers  # noqa: F401
from . import stack


class Terminated(SystemExit):
    """Raised in the main thread by SIGTERM (outside any database transaction).

    The stack unwinds, releasing every lock, runs end ``killed`` on the way out, and the
    process exits with status 143 (128 + 15), the shell's convention for SIGTERM.
    """

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


_hooks_installed = False
_uncaught: BaseException | None = None


def install_process_hooks() -> None:
    """On SIGTERM raise :class:`Terminated`; remember an uncaught exception for atexit.

    The SIGTERM handler does no I/O itself: it may interrupt the main thread inside a database
    write, and writing from there would wait forever on locks the interrupted frame holds.
    Installed once, from the main thread, when the process starts its first run.
    """
    global _hooks_installed
    if _hooks_installed or threading.current_thread() is not threading.main_thread():
        return
    _hooks_installed = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # else a server or kernel owns it

        def terminate() -> None:
            global _uncaught
            # SystemExit never reaches sys.excepthook, so atexit learns of it from here.
            _uncaught = Terminated()
            raise _uncaught

        def on_sigterm(signum, frame):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
            run_or_defer(terminate)  # never in the middle of a transaction

        signal.signal(signal.SIGTERM, on_sigterm)

    previous_hook = sys.excepthook

    def excepthook(exc_type, exc, tb):
        global _uncaught
        _uncaught = exc
        previous_hook(exc_type, exc, tb)

    sys.excepthook = excepthook


@atexit.register
def _end_runs_at_exit() -> None:
    status, error = FINISHED, None
    if isinstance(_uncaught, Terminated):
        status, error = KILLED, "Terminated by SIGTERM."
    elif _uncaught is not None:
        status = FAILED
        from .tracebacks import user_traceback

        error = user_traceback(type(_uncaught), _uncaught, _uncaught.__traceback__)
    for run in reversed(list(stack._active)):
        try:
            run.end(status, error)
        except Exception:  # noqa: S110 - the reaper marks it crashed later
            pass
