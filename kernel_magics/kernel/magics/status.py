"""``%mlops status``: where the store is, the active run, this notebook and its execution order."""

from __future__ import annotations

from typing import Any

from .. import parsers


@parsers.parsed_with(parsers.status_parser)  # takes no arguments: any is an error
def handle_status(magics: Any, args: Any) -> None:
    """Print the store, the active run, the notebook and whether cells ran in order."""
    from ... import __version__
    from ...core import capture, tracking
    from ...core.config import resolve_location

    location = resolve_location()
    notebook = capture.locate_notebook(namespace=magics.shell.user_ns)
    cells = capture.notebook_code_cells(notebook.path) if notebook.path else None
    order = capture.analyze_execution_order(magics.history.cells(), cells)
    active = tracking._active[-1] if tracking._active else None
    lines = [
        f"jupyter-mlops {__version__}",
        f"store:     {location.store_uri}",
        f"artifacts: {location.artifacts_uri}",
        f"           ({location.reason})",
        f"active run: {active.id if active else 'none'}",
        f"notebook:  {notebook.path or 'unknown'} ({notebook.reason})",
        f"execution order: {order.status} ({order.reason})",
    ]
    print("\n".join(lines))
    return None
