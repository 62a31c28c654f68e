"""Handlers of the ``%mlops`` line subcommands: runs, show, compare, log, status.

Each handler parses its line with :mod:`kernel_magics.kernel.parsers`, calls
:mod:`kernel_magics.core`, and returns what the notebook should display.
"""

from __future__ import annotations

from typing import Any

from . import cell_writer, parsers


def _help(line: str, parser_factory) -> bool:
    if parsers.wants_help(parsers.split_line(line)):
        print(parser_factory().format_help())
        return True
    return False


def _current_store() -> Any:
    """The store with everything this kernel logged so far written (cell records, metrics)."""
    from ..core.flusher import flusher_for
    from ..core.store import open_store

    cell_writer.drain()
    store = open_store()
    flusher_for(store).flush()
    return store


def handle_runs(magics: Any, line: str) -> Any:
    """``%mlops runs``: the runs table widget, or a DataFrame with ``--df``."""
    if _help(line, parsers.runs_parser):
        return None
    args = parsers.parse_runs(line)
    from ..core import tracking

    store = _current_store()
    if args.df:
        return tracking.runs(args.experiment, filter=args.filter, limit=args.limit, store=store)
    from .widgets.runs_table import RunsTable

    return RunsTable(store, args.experiment, args.filter, args.limit)


def _image_artifacts(store: Any, run: dict[str, Any], limit: int = 12) -> dict[str, bytes]:
    images = {}
    for art in run["artifacts"]:
        if art["media_type"] == "image/png" and len(images) < limit:
            images[art["path"]] = store.artifacts.read(run["id"], art["path"])[0]
    return images


def handle_show(magics: Any, line: str) -> Any:
    """``%mlops show RUN``: one run in full."""
    if _help(line, parsers.show_parser):
        return None
    args = parsers.parse_show(line)
    from ..core.compare import run_details
    from .reports import show_report

    store = _current_store()
    details = run_details(store, args.run)
    return show_report(details, _image_artifacts(store, details["run"]))


def handle_compare(magics: Any, line: str) -> Any:
    """``%mlops compare RUN RUN [RUN...]``: why runs differ."""
    if _help(line, parsers.compare_parser):
        return None
    args = parsers.parse_compare(line)
    from ..core.compare import compare_runs
    from .reports import compare_report

    store = _current_store()
    return compare_report(compare_runs(store, args.runs))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value - value == 0.0 else None


def handle_log(magics: Any, line: str) -> None:
    """``%mlops log key=value ...``: numbers as metrics, text as params (or --param / --tag)."""
    if _help(line, parsers.log_parser):
        return None
    args = parsers.parse_log(line)
    from ..core import tracking

    run = tracking._require_run()
    if args.as_tag:
        run.set_tags(args.values)
        return None
    params = {}
    for key, text in args.values.items():
        number = None if args.as_param else _number(text)
        if number is None:
            params[key] = text
        else:
            run.log_metric(key, number)
    if params:
        run.log_params(params)
    return None


def handle_status(magics: Any, line: str) -> None:
    """``%mlops status``: the store, the active run, the notebook and its execution order."""
    if _help(line, parsers.status_parser):
        return None
    parsers.status_parser().parse_args(parsers.split_line(line))
    from .. import __version__
    from ..core import capture, tracking
    from ..core.config import resolve_location

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
