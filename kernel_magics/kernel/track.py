"""``%%mlops track``: run a cell as a tracked run, exactly as it would run without the magic.

The cell's code runs in the user namespace through IPython's own compiler (so tracebacks show
the cell's lines and AST transformers apply); its last expression is the magic's return value,
which IPython displays as ``Out[n]`` like any cell. An exception from the user's code propagates
unchanged after the run is ended ``failed`` (``killed`` for KeyboardInterrupt).
"""

from __future__ import annotations

import ast
import os
import sys
from typing import Any

from ..core import capture
from ..core.extras import require
from ..core.names import FAILED, FINISHED, KILLED, RUN_ID_ENV, SOURCE_CELL, Tag
from ..errors import KernelMagicsError, ValidationError
from . import cell_writer
from .parsers import TrackCell, parse_track, split_line, track_parser, wants_help

#: Longer execution histories go to the artifact cell/history.json instead of the tag.
MAX_HISTORY_TAG = 5000

_cells_cache: dict[tuple[str, int, int], list[tuple[str | None, str]]] = {}


def handle_track(magics: Any, line: str, cell: str) -> Any:
    """Run ``cell`` as a tracked run (the ``%%mlops track`` handler)."""
    __tracebackhide__ = True  # noqa: F841
    if wants_help(split_line(line)):
        print(track_parser().format_help())
        return None
    args = parse_track(line)
    return TrackedCell(magics.shell, magics.history, args, cell).run()


def notebook_version_id(store: Any, path: str) -> int:
    """Record the notebook file as a version, skipping the hash when the file did not change."""
    from ..core.tracking.session import notebook_version_id as cached_version_id

    return cached_version_id(store, path)


def _store_context(
    run: Any, cell: str, history: dict | None, notebook_path: str | None, version_id: int | None
) -> None:
    """Store the cell's source, a long execution history and the notebook version (background).

    ``version_id`` is the notebook version the runner recorded (a cell run inside ``mlops run``);
    otherwise the file at ``notebook_path`` is recorded as a version.
    """
    run.log_text(cell, "cell/source.py")
    if history is not None:
        run.log_dict(history, "cell/history.json")
    if version_id is not None:
        run.store.runs.set_fields(run.id, notebook_version_id=version_id)
    elif notebook_path:
        try:
            version_id = notebook_version_id(run.store, notebook_path)
            run.store.runs.set_fields(run.id, notebook_version_id=version_id)
        except (OSError, KernelMagicsError) as exc:
            run.set_tag(Tag.NOTEBOOK_ERROR, f"could not record the notebook version: {exc}")


def _runner_run(store: Any) -> Any:
    """Return the record of the ``mlops run`` run this kernel executes, if it has a notebook.

    A papermill kernel is not started by Jupyter server, so only that run (``MLOPS_RUN_ID``)
    knows the notebook's path and version.
    """
    run_id = os.environ.get(RUN_ID_ENV)
    if not run_id:
        return None
    try:
        record = store.runs.get(run_id)
    except KernelMagicsError:
        return None
    return record if record.notebook_path else None


def _notebook_cells(path: str) -> list[tuple[str | None, str]]:
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    cells = _cells_cache.get(key)
    if cells is None:
        cells = capture.notebook_code_cells(path)
        _cells_cache.clear()
        _cells_cache[key] = cells
    return cells


class TrackedCell:
    """One execution of a ``%%mlops track`` cell.

    Parameters
    ----------
    shell : InteractiveShell
        The running shell.
    history : CellHistory
        The executions the kernel saw (the last one is this cell).
    args : TrackCell
        Parsed magic arguments.
    cell : str
        The cell body (IPython syntax).
    """

    def __init__(self, shell: Any, history: Any, args: TrackCell, cell: str):
        self.shell = shell
        self.history = history
        self.args = args
        self.cell = cell
        self.warnings: list[str] = []
        self.tracked_run: Any = None
        self.order: capture.OrderReport | None = None

    # -- before ---------------------------------------------------------------------------------
    def _start(self, source: str):
        from ..core import tracking
        from ..core.store import open_store

        store = open_store()
        count = self.shell.displayhook.prompt_count
        location = capture.locate_notebook(namespace=self.shell.user_ns)
        runner = None if location.path else _runner_run(store)
        if runner is not None:
            # nbclient executes every cell once, top to bottom, and the saved file lacks the
            # injected parameters cell, so the file cannot (and need not) be checked.
            location = capture.NotebookLocation(runner.notebook_path, "from the run's notebook")
            self.order = capture.OrderReport(
                capture.IN_ORDER,
                f"`mlops run` (run {runner.id[:8]}) executed the notebook top to bottom",
                capture.analyze_execution_order(self.history.cells(), None).cells,
            )
        else:
            cells = _notebook_cells(location.path) if location.path else None
            self.order = capture.analyze_execution_order(self.history.cells(), cells)
        tags = {
            Tag.CELL_HASH: capture.source_hash(self.cell),
            Tag.CELL_EXECUTION_COUNT: count,
            Tag.EXECUTION_ORDER: self.order.status,
            Tag.EXECUTION_ORDER_REASON: self.order.reason,
            Tag.NOTEBOOK: location.path or f"unknown: {location.reason}",
            **self.args.tags,
        }
        current = self.history.current()
        if current is not None and current.cell_id:
            tags[Tag.CELL_ID] = current.cell_id
        history: dict | None = None
        compact = capture.compact_history(self.order.cells)
        if len(compact) <= MAX_HISTORY_TAG:
            tags[Tag.CELL_HISTORY] = compact  # in the run's first transaction: never lost
        else:
            tags[Tag.CELL_HISTORY] = f"{len(self.order.cells)} executions: see cell/history.json"
            history = {
                "execution_count": count,
                "executed_cells": [c.to_dict() for c in self.order.cells],
            }
        # In a notebook run by `mlops run` (MLOPS_RUN_ID) the cell logs into the runner's run:
        # keep that run's name unless the user gave one.
        attaching = bool(os.environ.get(RUN_ID_ENV)) and not tracking._active
        name = self.args.name or (None if attaching else f"In[{count}]")
        experiment = self.args.experiment or (runner.experiment if runner else location.stem)
        run = tracking.start_run(
            experiment, name, tags=tags, source=SOURCE_CELL, notebook_path=location.path,
            nested=bool(tracking._active), store=store,
        )  # fmt: skip
        self.tracked_run = run
        path, version = location.path, runner.notebook_version_id if runner else None
        if attaching and runner is not None:
            path = version = None  # the runner's own run: it recorded the notebook version
        cell_writer.submit(_store_context, run, self.cell, history, path, version)
        return run

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        print(f"mlops: {message}", file=sys.stderr)

    # -- the cell itself ------------------------------------------------------------------------
    def _execute(self, source: str) -> Any:
        __tracebackhide__ = True  # noqa: F841
        shell = self.shell
        tree = shell.transform_ast(ast.parse(source))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        filename = shell.compile.cache(source, shell.displayhook.prompt_count, raw_code=self.cell)
        exec(shell.compile(tree, filename, "exec"), shell.user_global_ns, shell.user_ns)  # noqa: S102
        if last is None:
            return None
        value = eval(shell.compile(last, filename, "eval"), shell.user_global_ns, shell.user_ns)  # noqa: S307
        try:  # a trailing ';' silences the last expression, as in any cell
            quiet = shell.displayhook.semicolon_at_end_of_expression(source)
        except Exception:  # tokenize errors on odd sources: display, as IPython would
            quiet = False
        return None if quiet else value

    def run(self) -> Any:
        """Run the cell as a tracked run; return the value of its last expression."""
        __tracebackhide__ = True  # noqa: F841
        source = self.shell.transform_cell(self.cell)
        if capture.has_top_level_await(source):
            raise ValidationError(
                "%%mlops track cannot run top-level `await` (the cell runs synchronously): "
                "run the awaiting code in a cell without the magic and log from it with "
                "`with mlops.start_run(): ...`."
            )
        if self.args.autolog:
            require("sklearn", feature="--autolog (it logs scikit-learn fits)")
        run = self._start(source)
        figures = self._figure_capture()
        live = self._live_plot(source)
        try:
            autolog = self._autolog()
        except BaseException as exc:
            from ..core import tracking

            tracking.end_run(FAILED, run=run, error=f"--autolog could not start: {exc!r}")
            if figures is not None:
                figures.stop()
            if live is not None:
                live.stop()
            raise
        status, error, value = FINISHED, None, None
        try:
            value = self._execute(source)
        except KeyboardInterrupt:
            status, error = KILLED, "Interrupted (KeyboardInterrupt)."
            raise
        except BaseException as exc:
            status = FAILED
            from ..core.tracking.tracebacks import user_traceback

            error = user_traceback(type(exc), exc, exc.__traceback__)
            if isinstance(exc, KernelMagicsError):
                from .magics import USER_CODE_MARK

                setattr(exc, USER_CODE_MARK, True)
            raise
        finally:
            self._finish(run, source, status, error, figures, live, autolog)
        return value

    # -- after ----------------------------------------------------------------------------------
    def _live_plot(self, source: str):
        if not self.args.live or not capture.calls_names(source, ("log_metric", "log_metrics")):
            return None
        if getattr(self.shell, "kernel", None) is None:
            return None  # no front end to draw in (terminal IPython, tests without a kernel)
        from .widgets.live_plot import LivePlot

        try:
            plot = LivePlot(self.tracked_run.store, self.tracked_run.id)
            plot.show()
        except Exception as exc:  # e.g. ipywidgets missing: the cell runs without a live plot
            self._warn(f"no live plot: {exc}")
            return None
        return plot

    def _autolog(self):
        if not self.args.autolog:
            return None
        from ..core.autolog import SklearnAutolog

        autolog = SklearnAutolog(self.tracked_run)
        autolog.start()
        return autolog

    def _figure_capture(self):
        if not self.args.figures:
            return None
        from ..core.figures import FigureCapture

        figures = FigureCapture()
        figures.start()
        return figures

    def _finish(self, run, source, status, error, figures, live, autolog) -> None:
        from ..core import tracking

        try:
            try:  # the hooks come off first, whatever fails below
                stored = figures.stop() if figures is not None else []
            finally:
                if autolog is not None:
                    autolog.stop()
                    self.warnings += autolog.warnings
            self._log_params(run, source)
            self._log_values(run)
            if figures is not None:
                self._log_figures(run, stored, figures.warnings)
        except Exception as exc:  # capture must never hide the cell's own outcome
            self._warn(f"could not capture everything: {exc}")
        finally:
            try:
                if self.warnings:  # one line per warning, whatever an exception's message holds
                    lines = (" ".join(w.split()) for w in self.warnings)
                    run.set_tag(Tag.WARNINGS, "\n".join(lines))
            except Exception as exc:  # the run still ends below
                print(f"mlops: could not store the run's warnings: {exc}", file=sys.stderr)
            tracking.end_run(status, run=run, error=error)
            try:
                if live is not None:
                    live.finish()
                else:
                    self._final_plot(run)
            except Exception as exc:  # a plot is a nicety; the run is stored either way
                print(f"mlops: could not draw the metric plot: {exc}", file=sys.stderr)
        if self.order is not None and self.order.status == capture.UNORDERED:
            print(
                f"mlops: run {run.id[:8]} is marked unordered ({self.order.reason}); certify it "
                f"with a clean rerun: mlops rerun {run.id[:8]}"
            )

    def _final_plot(self, run) -> None:
        if not any(step > 0 for step in run._steps.values()):
            return  # no metric has two points: nothing to draw, no query
        from .widgets.live_plot import final_figure_png

        png = final_figure_png(run.store, run.id)
        if png is not None:
            from IPython.display import Image, display

            display(Image(png))

    def _log_params(self, run, source: str) -> None:
        metric_names = set(self.args.metrics) | set(self.args.artifacts)
        values = {
            k: v for k, v in capture.literal_assignments(source).items() if k not in metric_names
        }
        missing = []
        for name in self.args.params:
            if name in self.shell.user_ns:
                values[name] = self.shell.user_ns[name]
            else:
                missing.append(name)
        if missing:
            self._warn(f"--param {', '.join(missing)}: no such variable after the cell")
        if values:
            try:
                run.log_params(values)
            except KernelMagicsError as exc:
                self._warn(str(exc))

    def _log_values(self, run) -> None:
        from ..core.cell_artifacts import serialize_value

        ns = self.shell.user_ns
        for name in self.args.metrics:
            if name not in ns:
                self._warn(f"--metric {name}: no such variable after the cell")
                continue
            try:
                run.log_metric(name, ns[name])
            except KernelMagicsError as exc:
                self._warn(f"--metric {name}: {exc}")
        for name in self.args.artifacts:
            if name not in ns:
                self._warn(f"--artifact {name}: no such variable after the cell")
                continue
            try:
                art = serialize_value(name, ns[name], allow_pickle=self.args.pickle)
            except KernelMagicsError as exc:
                self._warn(str(exc))
                continue
            run.log_bytes(art.data, f"artifacts/{art.path}", art.media_type)

    def _log_figures(self, run, stored: list, warnings: list[str]) -> None:
        for warning in warnings:
            self._warn(warning)
        for figure in stored:
            try:
                run.log_bytes(figure.png, figure.path, "image/png")
            except (OSError, KernelMagicsError) as exc:
                self._warn(f"{figure.path} could not be stored: {exc}")
