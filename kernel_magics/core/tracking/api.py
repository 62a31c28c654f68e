"""The public tracking functions: ``mlops.start_run``, ``mlops.log_metric``, ``mlops.runs``...

Each logs into the innermost active run of the process (see :mod:`.stack`). Reads
(:func:`get_run`, :func:`runs`) only read: a run whose process died shows as ``crashed`` without
anything being written (the background writer's timer and ``mlops runs reap`` persist it).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

from ...errors import ConflictError, NoActiveRunError
from ..names import FINISHED, SOURCE_API, Tag
from ..store import Store, open_store
from . import stack
from .hooks import install_process_hooks
from .run import Run, check_end_status
from .session import session_notebook
from .stack import RUN_ID_ENV


def start_run(
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    source: str = SOURCE_API,
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
        The notebook the run came from. Inside a Jupyter notebook session an ``api`` run
        records the session's notebook and a version of it when this is omitted.
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
    active = stack.top()
    if active is not None and not nested:
        raise ConflictError(
            f"Run {active.id[:8]} is still active. End it with mlops.end_run() first, "
            "or pass nested=True to start a child run."
        )
    attach_id = os.environ.get(RUN_ID_ENV)
    if attach_id and active is None:
        run = Run(store, store.runs.resolve_id(attach_id), owned=False)
        if params:
            run.log_params(params)
        if tags:
            run.set_tags(tags)
        if name:
            store.runs.set_fields(run.id, name=name)
        store.writer.add_run(run.id, environment=False)
    else:
        if nested and active is not None and parent_run_id is None:
            parent_run_id = active.id
        version_id = problem = None
        if notebook_path is None and source == SOURCE_API:
            # inside a notebook the run is that notebook's, as a tracked cell's would be
            notebook_path, version_id, problem = session_notebook(store)
        if problem:
            tags = {**(tags or {}), Tag.NOTEBOOK_ERROR: problem}
        experiment_id = store.experiments.get_or_create(experiment)
        writer = store.writer
        run_id = store.runs.create(
            experiment_id, name=name, source=source, parent_run_id=parent_run_id,
            notebook_path=notebook_path, params=params, tags=tags,
            environment_hash=writer.environment_hash,
        )  # fmt: skip
        if version_id is not None:
            store.runs.set_fields(run_id, notebook_version_id=version_id)
        run = Run(store, run_id)
        writer.add_run(run_id, environment=writer.environment_hash is None)
        install_process_hooks()
    stack.push(run)
    return run


def end_run(status: str = FINISHED, *, run: Run | None = None, error: str | None = None) -> None:
    """End the active run (or ``run``) with ``status`` after writing its buffered metrics.

    An attached run (``MLOPS_RUN_ID``) is only flushed: its creator sets the status.

    Raises
    ------
    ValidationError
        When ``status`` is not a terminal status (nothing changes then).
    NoActiveRunError
        When no run is active and none was given.
    """
    check_end_status(status)  # before looking for a run
    run = run or stack.top()
    if run is None:
        raise NoActiveRunError("There is no active run to end.")
    run.end(status, error)


def active_run() -> Run | None:
    """The innermost active run of this process, if any (attaching to ``MLOPS_RUN_ID``)."""
    if stack.top() is None and os.environ.get(RUN_ID_ENV):
        return start_run()
    return stack.top()


def _require_run() -> Run:
    run = stack.top() or active_run()
    if run is None:
        raise NoActiveRunError(
            "No active run. Wrap the code in `with mlops.start_run():`, call mlops.start_run() "
            "first, or use the %%mlops track cell magic."
        )
    return run


def log_metric(key: str, value: Any, step: int | None = None) -> None:
    """Log a metric point to the active run (buffered; no I/O on this thread)."""
    (stack._active[-1] if stack._active else _require_run()).log_metric(key, value, step)


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


def log_dataset(
    data: Any,
    name: str | None = None,
    role: str = "input",
    store: bool | None = None,
    on_fail: str | None = None,
) -> dict[str, Any]:
    """Record a dataset version (a file, a folder or a DataFrame) read by the active run.

    Its content is stored, deduplicated by chunks, so ``load_dataset("NAME@N")`` gets it back;
    ``store=False`` records a reference only (hash, schema, rows). The dataset's quality checks
    run on it; ``on_fail="fail"`` raises ``DataQualityError`` when they fail (``"warn"`` warns).
    """
    return _require_run().log_dataset(data, name, role, store, on_fail)


def load_dataset(ref: str, as_path: bool = False, store: Store | None = None) -> Any:
    """Get a stored dataset version back: ``"train@3"``, ``"train@latest"``, ``"train@<hash>"``.

    Returns a DataFrame for a logged DataFrame and for CSV, TSV and parquet files, else the
    local path of the restored file or folder (read-only, in the store's cache).
    """
    from ..data.loading import load_dataset as load

    return load(ref, as_path=as_path, store=store)


def get_run(run_id: str, store: Store | None = None):
    """Return a run's record: status, params, latest metrics, tags, artifacts, datasets.

    This process's buffered points are written first, so the record includes them.

    Raises
    ------
    RunNotFoundError
        When no run has that id (or unique id prefix).
    """
    store = store or open_store()
    store.writer.flush()
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
    notebook_path`` then ``params.*``, ``metrics.*`` (latest values) and ``tags.*``. The
    search's warnings (a filter on a metric no run has, with the closest known names) are
    issued as :class:`UserWarning` and kept in ``frame.attrs["warnings"]``.

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
    from ..store.search import runs_frame, search_runs

    store = store or open_store()
    store.writer.flush()
    names = [experiment] if isinstance(experiment, str) else experiment
    for name in names or ():
        store.experiments.id_of(name)  # a typo is an error naming the known experiments
    page = search_runs(store, experiments_=names, filter=filter, order_by=order_by, limit=limit)
    frame = runs_frame(store, page.run_ids)
    frame.attrs["warnings"] = page.warnings
    for message in page.warnings:
        warnings.warn(message, UserWarning, stacklevel=2)
    return frame
