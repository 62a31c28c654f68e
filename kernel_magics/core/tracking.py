"""The tracking API: runs and everything logged into them.

``import kernel_magics as mlops`` re-exports the functions here. A run is started with
:func:`start_run` (a context manager too), or attached to when ``MLOPS_RUN_ID`` names an existing
run (that is how notebooks executed by ``mlops run`` log into the runner's run).
"""

from __future__ import annotations

import atexit
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import (
    ConflictError,
    FileMissingError,
    InvalidMetricError,
    NoActiveRunError,
    ValidationError,
)
from .flusher import Flusher, flusher_for
from .store import Store, open_store
from .store.db import run_or_defer
from .store.schema import FAILED, FINISHED, KILLED, TERMINAL_STATUSES

RUN_ID_ENV = "MLOPS_RUN_ID"


class Run:
    """A handle on a run this process logs into.

    Use it as a context manager: leaving the block ends the run ``finished``, or ``failed`` (with
    the traceback) on an exception, or ``killed`` on KeyboardInterrupt.

    Attributes
    ----------
    id : str
        The run id (32 hex characters).
    owned : bool
        False when attached through ``MLOPS_RUN_ID``: the process that created the run decides
        its final status, so ending an attached run only flushes.
    """

    def __init__(self, store: Store, run_id: str, owned: bool = True):
        self.store = store
        self.id = run_id
        self.owned = owned
        self._flusher: Flusher = flusher_for(store)
        self._append = self._flusher.points.append
        self._steps: dict[str, int] = {}
        self._ended = False

    def __repr__(self) -> str:
        return f"<Run {self.id[:8]} {'owned' if self.owned else 'attached'}>"

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            end_run(FINISHED, run=self)
        elif issubclass(exc_type, KeyboardInterrupt):
            end_run(KILLED, run=self, error="Interrupted (KeyboardInterrupt).")
        elif issubclass(exc_type, Terminated):
            end_run(KILLED, run=self, error="Terminated by SIGTERM.")
        else:
            end_run(FAILED, run=self, error="".join(traceback.format_exception(exc_type, exc, tb)))

    # -- logging -----------------------------------------------------------------------------
    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """Buffer one metric point; written by the background flusher (no I/O here).

        Raises
        ------
        InvalidMetricError
            When the value is not a finite number or the key is not a non-empty string.
        """
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidMetricError(
                f"Metric {key!r} must be a number, got {type(value).__name__} {value!r:.40}."
            ) from None
        if number - number != 0.0:  # NaN or infinity, without a function call
            raise InvalidMetricError(
                f"Metric {key!r} is {number}; only finite numbers are stored. Check for a "
                "division by zero or a diverging loss, or skip the point."
            )
        if key.__class__ is not str or not key or len(key) > 255:
            raise InvalidMetricError(
                "A metric name must be a non-empty string of at most 255 characters, "
                f"got {key!r:.60}."
            )
        if step is None:
            step = self._steps.get(key, -1) + 1
        elif step.__class__ is not int:
            try:
                step = int(step)
            except (TypeError, ValueError):
                raise InvalidMetricError(
                    f"The step of metric {key!r} must be an integer."
                ) from None
        if not -(2**63) <= step < 2**63:
            raise InvalidMetricError(f"The step of metric {key!r} does not fit in 64 bits.")
        self._steps[key] = step
        self._append((self.id, key, step, time.time(), number))

    def log_metrics(self, values: Mapping[str, Any], step: int | None = None) -> None:
        """Buffer several metrics at the same step."""
        for key, value in values.items():
            self.log_metric(key, value, step)

    def log_param(self, key: str, value: Any) -> None:
        """Record one parameter (immutable once logged)."""
        self.store.runs.log_params(self.id, {key: value})

    def log_params(self, values: Mapping[str, Any]) -> None:
        """Record several parameters."""
        self.store.runs.log_params(self.id, dict(values))

    def set_tag(self, key: str, value: Any) -> None:
        """Set one tag (tags may change)."""
        self.store.runs.set_tags(self.id, {key: value})

    def set_tags(self, values: Mapping[str, Any]) -> None:
        """Set several tags."""
        self.store.runs.set_tags(self.id, dict(values))

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        """Store a file as an artifact (named after the file unless ``artifact_path``)."""
        src = Path(path)
        if not src.is_file():
            raise FileMissingError(f"Cannot log artifact {str(src)!r}: no such file.")
        ref = self.store.blobs.put_file(src)
        return self.store.artifacts.add(self.id, artifact_path or src.name, ref)

    def log_artifacts(
        self, directory: str | os.PathLike[str], artifact_path: str = ""
    ) -> list[str]:
        """Store every file under ``directory``, keeping their relative paths."""
        root = Path(directory)
        if not root.is_dir():
            raise FileMissingError(f"Cannot log artifacts from {str(root)!r}: no such directory.")
        prefix = artifact_path.strip("/")
        stored = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            stored.append(self.log_artifact(file, f"{prefix}/{rel}" if prefix else rel))
        return stored

    def log_bytes(self, data: bytes, artifact_path: str, media_type: str | None = None) -> str:
        """Store raw bytes as an artifact."""
        ref = self.store.blobs.put_bytes(data)
        return self.store.artifacts.add(self.id, artifact_path, ref, media_type)

    def log_text(self, text: str, artifact_path: str) -> str:
        """Store a string as a UTF-8 text artifact."""
        return self.log_bytes(text.encode("utf-8"), artifact_path, _text_type(artifact_path))

    def log_dict(self, data: Mapping[str, Any] | list, artifact_path: str) -> str:
        """Store a dict as JSON (or YAML when the path ends in .yaml/.yml)."""
        if artifact_path.endswith((".yaml", ".yml")):
            import yaml

            return self.log_bytes(
                yaml.safe_dump(data, sort_keys=False).encode(), artifact_path, "application/yaml"
            )
        if not artifact_path.endswith(".json"):
            raise ValidationError(
                f"log_dict writes .json, .yaml or .yml files, not {artifact_path!r}."
            )
        body = json.dumps(data, indent=2, default=str).encode()
        return self.log_bytes(body, artifact_path, "application/json")

    def log_figure(self, figure: Any, artifact_path: str, dpi: int = 100) -> str:
        """Store a matplotlib (or any ``savefig``-capable) figure as PNG or SVG."""
        if not hasattr(figure, "savefig"):
            raise ValidationError(
                "log_figure expects a matplotlib Figure (something with savefig)."
            )
        fmt = "svg" if artifact_path.endswith(".svg") else "png"
        if not artifact_path.endswith((".png", ".svg")):
            artifact_path += ".png"
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
        return self.log_bytes(
            buffer.getvalue(), artifact_path, f"image/{'svg+xml' if fmt == 'svg' else 'png'}"
        )

    def log_dataset(
        self, data: Any, name: str | None = None, role: str = "input"
    ) -> dict[str, Any]:
        """Record a dataset version (content hash, schema, rows) as read by this run."""
        from .datasets import describe_dataset

        info = describe_dataset(data)
        dataset_name = name or info.default_name
        if not dataset_name:
            raise ValidationError(
                "Give the DataFrame a dataset name: log_dataset(df, name='train')."
            )
        return self.store.datasets.record(
            self.id, dataset_name, info.hash, size=info.size, rows=info.rows,
            schema=info.schema, source=info.source, role=role,
        )  # fmt: skip

    def flush(self) -> None:
        """Write buffered metric points now."""
        self._flusher.flush()

    @property
    def info(self):
        """The stored record of this run (status, params, metrics...)."""
        self._flusher.flush()
        return self.store.runs.get(self.id)


_TEXT_TYPES = {".md": "text/markdown", ".py": "text/x-python", ".json": "application/json",
               ".html": "text/html", ".csv": "text/csv"}  # fmt: skip


def _text_type(path: str) -> str:
    return _TEXT_TYPES.get(Path(path).suffix, "text/plain")


# -- the active-run stack -------------------------------------------------------------------------
_active: list[Run] = []


class Terminated(SystemExit):
    """Raised in the main thread by SIGTERM (outside any database transaction).

    The stack unwinds, releasing every lock, runs end ``killed`` on the way out, and the
    process exits with status 143 (128 + 15), the shell's convention for SIGTERM.
    """

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


_hooks_installed = False
_uncaught: BaseException | None = None


def _install_process_hooks() -> None:
    """On SIGTERM raise :class:`Terminated`; remember an uncaught exception for atexit.

    The SIGTERM handler does no I/O itself: it may interrupt the main thread inside a database
    write, and writing from there would wait forever on locks the interrupted frame holds.
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


def start_run(
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    source: str = "api",
    parent_run_id: str | None = None,
    notebook_path: str | None = None,
    nested: bool = False,
    store: Store | None = None,
) -> Run:
    """Start a run (or attach to ``MLOPS_RUN_ID``) and make it the active run.

    Parameters
    ----------
    experiment : str, optional
        Experiment name; created on first use ("Default" when omitted).
    name : str, optional
        A human name for the run.
    params, tags : mapping, optional
        Initial parameters and tags.
    source : str
        What started it: ``api``, ``cell``, ``papermill``, ``schedule`` or ``sweep``.
    parent_run_id : str, optional
        The parent (a sweep's run holds its children).
    notebook_path : str, optional
        The notebook the run came from.
    nested : bool
        Allow starting a run while another is active (it becomes a child of that run).
    store : Store, optional
        Where to log; the resolved default store when omitted.

    Returns
    -------
    Run
        Usable as a context manager.

    Raises
    ------
    ConflictError
        When a run is already active and ``nested`` is False.
    """
    store = store or open_store()
    if _active and not nested:
        raise ConflictError(
            f"Run {_active[-1].id[:8]} is still active. End it with mlops.end_run() first, "
            "or pass nested=True to start a child run."
        )
    attach_id = os.environ.get(RUN_ID_ENV)
    if attach_id and not _active:
        run = Run(store, store.runs.resolve_id(attach_id), owned=False)
        if params:
            run.log_params(params)
        if tags:
            run.set_tags(tags)
        if name:
            store.runs.set_fields(run.id, name=name)
        run._flusher.add_run(run.id, environment=False)
    else:
        if nested and _active and parent_run_id is None:
            parent_run_id = _active[-1].id
        experiment_id = store.experiments.get_or_create(experiment)
        flusher = flusher_for(store)
        run_id = store.runs.create(
            experiment_id, name=name, source=source, parent_run_id=parent_run_id,
            notebook_path=notebook_path, params=params, tags=tags,
            environment_hash=flusher.environment_hash,
        )  # fmt: skip
        run = Run(store, run_id)
        flusher.add_run(run_id, environment=flusher.environment_hash is None)
        _install_process_hooks()
    _active.append(run)
    return run


def end_run(status: str = FINISHED, *, run: Run | None = None, error: str | None = None) -> None:
    """End the active run (or ``run``) with ``status`` after writing its buffered metrics.

    An attached run (``MLOPS_RUN_ID``) is only flushed: its creator sets the status.
    """
    if status not in TERMINAL_STATUSES:  # checked before anything changes
        raise ValidationError(
            f"Unknown end status {status!r}; one of {', '.join(TERMINAL_STATUSES)}."
        )
    run = run or (_active[-1] if _active else None)
    if run is None:
        raise NoActiveRunError("There is no active run to end.")
    if run._ended:
        return
    run._ended = True
    if run in _active:
        _active.remove(run)
    run._flusher.remove_run(run.id)
    try:
        run._flusher.flush()
    finally:  # the status is written even if the last points could not be
        if run.owned:
            run.store.runs.finish(run.id, status, error)


def active_run() -> Run | None:
    """The innermost active run of this process, if any (attaching to ``MLOPS_RUN_ID``)."""
    if not _active and os.environ.get(RUN_ID_ENV):
        return start_run()
    return _active[-1] if _active else None


def _require_run() -> Run:
    run = _active[-1] if _active else active_run()
    if run is None:
        raise NoActiveRunError(
            "No active run. Wrap the code in `with mlops.start_run():`, call mlops.start_run() "
            "first, or use the %%mlops track cell magic."
        )
    return run


def log_metric(key: str, value: Any, step: int | None = None) -> None:
    """Log a metric point to the active run (buffered; no I/O on this thread)."""
    (_active[-1] if _active else _require_run()).log_metric(key, value, step)


def log_metrics(values: Mapping[str, Any], step: int | None = None) -> None:
    """Log several metrics at one step to the active run."""
    _require_run().log_metrics(values, step)


def log_param(key: str, value: Any) -> None:
    """Log a parameter of the active run."""
    _require_run().log_param(key, value)


def log_params(values: Mapping[str, Any]) -> None:
    """Log parameters of the active run."""
    _require_run().log_params(values)


def set_tag(key: str, value: Any) -> None:
    """Set a tag of the active run."""
    _require_run().set_tag(key, value)


def set_tags(values: Mapping[str, Any]) -> None:
    """Set tags of the active run."""
    _require_run().set_tags(values)


def log_artifact(path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
    """Store a file as an artifact of the active run."""
    return _require_run().log_artifact(path, artifact_path)


def log_artifacts(directory: str | os.PathLike[str], artifact_path: str = "") -> list[str]:
    """Store a directory's files as artifacts of the active run."""
    return _require_run().log_artifacts(directory, artifact_path)


def log_figure(figure: Any, artifact_path: str) -> str:
    """Store a matplotlib figure (PNG, or SVG by extension) in the active run."""
    return _require_run().log_figure(figure, artifact_path)


def log_dict(data: Mapping[str, Any] | list, artifact_path: str) -> str:
    """Store a dict as a JSON or YAML artifact of the active run."""
    return _require_run().log_dict(data, artifact_path)


def log_text(text: str, artifact_path: str) -> str:
    """Store text as an artifact of the active run."""
    return _require_run().log_text(text, artifact_path)


def log_dataset(data: Any, name: str | None = None, role: str = "input") -> dict[str, Any]:
    """Record a dataset version (a file path or a pandas DataFrame) read by the active run."""
    return _require_run().log_dataset(data, name, role)


_last_reap = 0.0


def _reap_now_and_then(store: Store) -> None:
    global _last_reap
    if time.monotonic() - _last_reap > 5.0:
        _last_reap = time.monotonic()
        store.runs.reap()


def get_run(run_id: str, store: Store | None = None):
    """Return a run's record: status, params, latest metrics, tags, artifacts, datasets.

    Raises
    ------
    RunNotFoundError
        When no run has that id (or unique id prefix).
    """
    store = store or open_store()
    flusher_for(store).flush()
    _reap_now_and_then(store)
    return store.runs.get(run_id)


def runs(
    experiment: str | list[str] | None = None,
    filter: str | None = None,
    order_by: list[str] | str | None = None,
    limit: int | None = None,
    store: Store | None = None,
):
    """Search runs and return a pandas DataFrame, one row per run.

    Columns: ``run_id, experiment, name, status, source, start_time, end_time, parent_run_id,
    notebook_path`` then ``params.*``, ``metrics.*`` (latest values) and ``tags.*``.

    Parameters
    ----------
    experiment : str or list of str, optional
        Restrict to these experiments.
    filter : str, optional
        e.g. ``"metrics.acc > 0.9 and params.C = '0.1'"``; parsed, never pasted into SQL.
    order_by : list of str, optional
        e.g. ``["metrics.acc DESC"]``; newest first by default.
    limit : int, optional
        At most this many runs.

    Raises
    ------
    FilterSyntaxError
        With the position of the mistake.
    ExperimentNotFoundError
        When a named experiment does not exist.
    """
    from .store.search import runs_frame, search_runs

    store = store or open_store()
    flusher_for(store).flush()
    _reap_now_and_then(store)
    names = [experiment] if isinstance(experiment, str) else experiment
    for name in names or ():
        store.experiments.id_of(name)  # a typo is an error naming the known experiments
    page = search_runs(store, experiments_=names, filter=filter, order_by=order_by, limit=limit)
    return runs_frame(store, page.run_ids)


@atexit.register
def _end_runs_at_exit() -> None:
    # A script that forgot end_run() still ends "finished" (as MLflow does), "failed" when an
    # uncaught exception ends it, "killed" on SIGTERM; attached runs are only flushed.
    status, error = FINISHED, None
    if isinstance(_uncaught, Terminated):
        status, error = KILLED, "Terminated by SIGTERM."
    elif _uncaught is not None:
        status = FAILED
        error = "".join(
            traceback.format_exception(type(_uncaught), _uncaught, _uncaught.__traceback__)
        )
    for run in reversed(list(_active)):
        try:
            end_run(status, run=run, error=error)
        except Exception:  # the reaper marks it crashed later
            pass


def _reset_after_fork() -> None:
    # A forked child does not own its parent's runs.
    _active.clear()


os.register_at_fork(after_in_child=_reset_after_fork)
