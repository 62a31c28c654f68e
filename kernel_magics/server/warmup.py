"""Import what the panel's first requests need, on a thread, while the server starts.

The handlers import core lazily (server start-up stays fast and a broken optional part cannot
fail the extension's load), so without this the first ``GET deployments/{id}/traffic`` would
pay for numpy, the first ``GET schedules`` for croniter, and so on, inside a request. A daemon
thread imports them right after start-up instead; a request that needs a module the thread is
still importing waits for that import only (Python's import lock), never for a second one.
"""

from __future__ import annotations

import importlib
import logging
import threading

#: Modules the panel's views import on first use (models, deployments, schedules).
PANEL_MODULES = (
    "kernel_magics.core.registry.api",
    # The versions table's run metrics: the store's runs repository and the run summaries.
    "kernel_magics.core.store.runs",
    "kernel_magics.core.store.summaries",
    "kernel_magics.core.serving.deployments",
    "kernel_magics.core.serving.traffic",
    "kernel_magics.core.monitoring.counts",
    "kernel_magics.core.store.monitoring",
    "kernel_magics.core.scheduler.api",
    "croniter",
    "kernel_magics.core.runner.parameters",
)


def _import_all(log: logging.Logger) -> None:
    for name in PANEL_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the request that needs it reports the problem
            log.debug("jupyter-mlops warm-up: %s not imported (%s)", name, exc)


def warm_panel_imports(log: logging.Logger) -> threading.Thread:
    """Start the daemon thread that imports :data:`PANEL_MODULES`; return it."""
    thread = threading.Thread(
        target=_import_all, args=(log,), daemon=True, name="mlops-warm-imports"
    )
    thread.start()
    return thread
