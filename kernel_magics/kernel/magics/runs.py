"""``%mlops runs``, ``%mlops show``, ``%mlops compare`` and ``%mlops log``.

Each handler parses its line with :mod:`kernel_magics.kernel.parsers`, reads the store through
:mod:`kernel_magics.core` (the run pages and tables come from :mod:`kernel_magics.core.views`,
shared with the CLI), and returns what the notebook should display.
"""

from __future__ import annotations

from typing import Any

from .. import cell_writer, parsers


def current_store() -> Any:
    """The store with everything this kernel logged so far written (cell records, metrics)."""
    from ...core.store import open_store

    cell_writer.drain()
    store = open_store()
    store.writer.flush()
    return store


@parsers.parsed_with(parsers.runs_parser, parsers.parse_runs)
def handle_runs(magics: Any, args: parsers.ListRuns) -> Any:
    """``%mlops runs``: the runs table widget, or a DataFrame with ``--df``."""
    from ...core import tracking

    store = current_store()
    if args.df:
        return tracking.runs(args.experiment, filter=args.filter, limit=args.limit, store=store)
    from ..widgets.runs_table import RunsTable

    return RunsTable(store, args.experiment, args.filter, args.limit)


def _image_artifacts(store: Any, run: dict[str, Any], limit: int = 12) -> dict[str, bytes]:
    images: dict[str, bytes] = {}
    for art in run["artifacts"]:
        if art["media_type"] == "image/png" and len(images) < limit:
            images[art["path"]] = store.artifacts.read(run["id"], art["path"])[0]
    return images


@parsers.parsed_with(parsers.show_parser, parsers.parse_show)
def handle_show(magics: Any, args: parsers.ShowRun) -> Any:
    """``%mlops show RUN``: one run in full."""
    from ...core.compare import run_details
    from ...core.views.runs import run_view
    from ..widgets.run_reports import show_report

    store = current_store()
    details = run_details(store, args.run)
    view = run_view(store.run_reads(), store.runs.get(details["run"]["id"]))
    return show_report(details, view, _image_artifacts(store, details["run"]))


@parsers.parsed_with(parsers.compare_parser, parsers.parse_compare)
def handle_compare(magics: Any, args: parsers.CompareRuns) -> Any:
    """``%mlops compare RUN RUN [RUN...]``: why runs differ, and the Compare view in JupyterLab.

    The report (HTML) is the cell's result; a second output asks JupyterLab's panel to open the
    interactive comparison (overlaid curves, scatter, diff) of the same runs.
    """
    from IPython.display import display

    from ...core.compare import compare_runs
    from ..widgets.run_reports import CompareRequest, compare_report

    result = compare_runs(current_store(), args.runs)
    display(CompareRequest([r["id"] for r in result["runs"]]))
    return compare_report(result)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value - value == 0.0 else None


@parsers.parsed_with(parsers.log_parser, parsers.parse_log)
def handle_log(magics: Any, args: parsers.LogValues) -> None:
    """``%mlops log key=value ...``: numbers as metrics, text as params (or --param / --tag)."""
    from ...core import tracking

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
