"""Notebook runs: a parameterized notebook executed with papermill as a tracked run.

The public entry points:

- :func:`run_notebook` executes one notebook as one run (``mlops run``; the scheduler calls it);
- :func:`sweep_notebook` executes a grid of parameter sets as child runs of a parent run;
- :func:`rerun` re-executes a past run from its stored notebook version and reports differences.

Bad input (unknown parameter, value of the wrong type, broken notebook, missing kernel) raises a
:class:`~kernel_magics.errors.ValidationError` subclass *before* any kernel starts. A notebook
that fails never raises: the result carries the status (``failed``, ``killed``, ``crashed``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..names import FINISHED, SOURCE_PAPERMILL
from .options import RunOptions

if TYPE_CHECKING:
    from ..store import Store
    from .rerun import RerunReport

__all__ = ["RunOptions", "RunResult", "SweepResult", "run_notebook", "sweep_notebook", "rerun"]


@dataclass
class RunResult:
    """The outcome of one notebook execution.

    Attributes
    ----------
    run_id : str
        The tracked run (source ``papermill`` unless told otherwise).
    status : str
        ``finished``, ``failed`` (a cell raised), ``killed`` (timeout) or ``crashed`` (the
        kernel or the worker died).
    error : str or None
        What went wrong, naming the failing cell.
    output_path : str or None
        The executed notebook on disk (also stored as the run's ``output.ipynb`` artifact).
    failed_cell : int or None
        Index of the cell that failed, was interrupted, or was running when the kernel died.
    duration : float
        Seconds from the start of the run to its end.
    parameters : dict
        The parameters given, after type conversion (the run also records the notebook's
        defaults for the others).
    kernel : str or None
        The kernel the notebook executed on (``python3`` for a notebook that asks for
        ``python``).
    """

    run_id: str
    status: str
    error: str | None = None
    output_path: str | None = None
    failed_cell: int | None = None
    duration: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)
    kernel: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the run finished without error."""
        return self.status == FINISHED

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


@dataclass
class SweepResult:
    """The outcome of a sweep: the parent run, its children, and the best child.

    Attributes
    ----------
    parent_run_id : str
        The run (source ``sweep``) that holds the children.
    status : str
        ``finished`` when every child finished, else ``failed``.
    children : list of RunResult
        One per parameter set, in grid order.
    best_run_id : str or None
        The child with the best objective value (when an objective was given).
    best_value : float or None
        That objective value.
    """

    parent_run_id: str
    status: str
    children: list[RunResult] = field(default_factory=list)
    best_run_id: str | None = None
    best_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


def run_notebook(
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    experiment: str | None = None,
    name: str | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    source: str = SOURCE_PAPERMILL,
    tags: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
    progress: bool = False,
    store: Store | None = None,
    executor: str | type = "local",
) -> RunResult:
    """Execute a notebook with papermill as one tracked run.

    Parameters
    ----------
    path : path-like
        The notebook (``.ipynb``).
    parameters : mapping, optional
        Values for names defined in the notebook's ``parameters`` cell. Strings are converted
        to the type of the default (as ``-p name=value`` on the command line); other values
        must already have that type.
    experiment : str, optional
        Experiment of the run ("Default" when omitted).
    name : str, optional
        Run name; the notebook's file name by default.
    timeout : float, optional
        Seconds the whole execution may take; past it the kernel is interrupted (then killed)
        and the run ends ``killed``.
    kernel : str, optional
        Jupyter kernel name; the notebook's own kernel by default (``python`` means
        ``python3``, as in jupyter_client and papermill).
    cwd : path-like, optional
        Working directory of the kernel; the notebook's folder by default, so the notebook's
        relative paths work wherever the run is started from.
    output_dir : path-like, optional
        Folder for the executed notebook and its logs; ``<MLOPS_HOME>/outputs`` by default.
    source : str
        Run source recorded in the store (``papermill``, or ``schedule`` for the scheduler).
    tags : mapping, optional
        Tags set on the run before it starts.
    parent_run_id : str, optional
        Make the run a child of this run.
    progress : bool
        Show a progress bar of cells done.
    store : Store, optional
        Where to record the run; the resolved default store when omitted.
    executor : str or type
        ``"local"`` (default: this process), ``"dask://HOST:PORT"`` (a Dask worker), another
        ``kernel_magics.executors`` entry point, or a
        :class:`~.executors.BaseRunExecutor` subclass.

    Returns
    -------
    RunResult
        Never raises for a failing notebook: look at ``status`` and ``error``.

    Raises
    ------
    ValidationError
        Before any kernel starts, when the notebook, a parameter, the kernel or an option is
        wrong (:class:`~kernel_magics.errors.UnknownParameterError`,
        :class:`~kernel_magics.errors.ParameterTypeError`,
        :class:`~kernel_magics.errors.NotebookFormatError`,
        :class:`~kernel_magics.errors.KernelNotFoundError`...).
    """
    from .execute import run_one

    options = RunOptions(
        parameters=parameters or {}, experiment=experiment, name=name, timeout=timeout,
        kernel=kernel, cwd=_path(cwd), output_dir=_path(output_dir), source=source,
        tags=tags or {}, parent_run_id=parent_run_id, progress=progress, executor=executor,
    )  # fmt: skip
    return run_one(path, options, store=store)


def sweep_notebook(
    path: str | os.PathLike[str],
    grid: Mapping[str, list[Any]],
    parameters: Mapping[str, Any] | None = None,
    *,
    workers: int = 1,
    executor: str | type = "local",
    objective: str | None = None,
    maximize: bool = False,
    experiment: str | None = None,
    name: str | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    progress: bool = False,
    store: Store | None = None,
) -> SweepResult:
    """Run a notebook once per point of a parameter grid, as children of a parent run.

    Parameters
    ----------
    path : path-like
        The notebook.
    grid : mapping of name to list
        Every combination of these values is one child run (several names multiply).
    parameters : mapping, optional
        Fixed parameters shared by every child.
    workers : int
        Children executing at the same time (kernels are started ahead of time).
    executor : str or type
        ``"local"`` (default), ``"dask://HOST:PORT"``, or as for :func:`run_notebook`.
    objective : str, optional
        ``metrics.<name>``: the child with the best value is recorded on the parent.
    maximize : bool
        Best means largest (default: smallest).
    experiment, name, timeout, kernel, cwd, output_dir, tags, progress, store
        As for :func:`run_notebook` (``timeout`` applies to each child).

    Returns
    -------
    SweepResult
        The parent run, every child's result and the best child.

    Raises
    ------
    ValidationError
        Before any kernel starts, when a value of the grid or an option is wrong.
    ExecutorError
        When the Dask scheduler cannot be reached.
    """
    from .sweep import run_sweep

    options = RunOptions(
        parameters=parameters or {}, experiment=experiment, name=name, timeout=timeout,
        kernel=kernel, cwd=_path(cwd), output_dir=_path(output_dir), tags=tags or {},
        progress=progress, executor=executor, workers=workers,
    )  # fmt: skip
    return run_sweep(path, grid, options, objective=objective, maximize=maximize, store=store)


def rerun(
    run_id: str,
    *,
    tolerance: float = 1e-9,
    timeout: float | None = None,
    kernel: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    store: Store | None = None,
    with_current_data: bool = False,
) -> RerunReport:
    """Re-execute a past run from its stored notebook version and parameters, then compare.

    Files and folders the run read that changed since are restored to the exact versions it
    read; ``with_current_data=True`` uses today's files and reports the difference.

    Parameters
    ----------
    run_id : str
        The original run (full id or a unique prefix).
    tolerance : float
        Relative tolerance under which two metric values count as equal.
    timeout, kernel, cwd, output_dir, progress, store
        As for :func:`run_notebook`.

    Returns
    -------
    RerunReport
        The new run's result and every difference found (see :mod:`.rerun`).

    Raises
    ------
    RunNotFoundError
        When no run has that id.
    ValidationError
        When the run has no stored notebook version to re-execute.
    """
    from .rerun import rerun_run

    options = RunOptions(timeout=timeout, kernel=kernel, cwd=_path(cwd),
                         output_dir=_path(output_dir), progress=progress)  # fmt: skip
    return rerun_run(run_id, options, tolerance=tolerance, store=store,
                     with_current_data=with_current_data)  # fmt: skip


def _path(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else os.fspath(value)
