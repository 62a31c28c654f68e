"""The options of a notebook run, typed once: :class:`RunOptions`.

The CLI (``mlops run``), the public API (:func:`kernel_magics.run_notebook`,
:func:`~kernel_magics.sweep_notebook`, :func:`~kernel_magics.rerun`) and the scheduler's slot
executor each build one ``RunOptions``; the runner's layers (plan, executors, sweep, rerun) take
it as it is instead of forwarding keyword lists. Building one checks every value, so bad options
fail before any notebook is read or any kernel starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ...errors import ValidationError
from ..names import RUN_SOURCES, SOURCE_PAPERMILL

__all__ = ["RunOptions", "check_workers"]


def check_workers(workers: Any) -> int:
    """Return ``workers`` when it is a positive integer.

    Raises
    ------
    ValidationError
        For anything else (``True``, ``0``, ``"2"``...).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValidationError(f"--workers must be a positive integer, got {workers!r}.")
    return workers


@dataclass(frozen=True)
class RunOptions:
    """How to execute a notebook: one value for every layer of the runner.

    Attributes
    ----------
    parameters : mapping
        Values for names of the notebook's ``parameters`` cell, as Python objects (a string
        converts to the type of a non-string default).
    text_parameters : mapping of str to str
        Values written as text (``-p name=value``), converted to the defaults' types; they
        override ``parameters``.
    experiment : str or None
        Experiment of the run ("Default" when None).
    name : str or None
        Run name; the notebook's file name by default.
    kernel : str or None
        Jupyter kernel name; the notebook's own kernelspec by default (see
        :func:`~.kernels.resolve_kernel`).
    timeout : float or None
        Seconds one execution may take; past it the kernel is interrupted, then killed, and the
        run ends ``killed``.
    cwd : str or None
        Working directory of the kernel; the notebook's folder by default (as papermill's
        ``--cwd``, which defaults to where papermill was started, this one defaults to where
        the notebook's relative paths point).
    output_dir : str or None
        Folder for executed notebooks and logs; ``<MLOPS_HOME>/outputs`` by default.
    source : str
        Run source recorded in the store (``papermill``; ``schedule`` for the scheduler).
    tags : mapping
        Tags set on the run before it starts.
    parent_run_id : str or None
        Make the run a child of this run.
    executor : str or type
        ``"local"`` (threads of this process), ``"dask://HOST:PORT"`` (a Dask cluster), the
        name of another ``kernel_magics.executors`` entry point, or a
        :class:`~.executors.BaseRunExecutor` subclass.
    workers : int
        Runs executing at the same time (sweeps).
    progress : bool
        Show progress bars.

    Raises
    ------
    ValidationError
        When a value is wrong (a timeout that is not a positive number, an unknown source, a
        ``cwd`` that is not a folder, a bad ``workers`` count).
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    text_parameters: Mapping[str, str] = field(default_factory=dict)
    experiment: str | None = None
    name: str | None = None
    kernel: str | None = None
    timeout: float | None = None
    cwd: str | None = None
    output_dir: str | None = None
    source: str = SOURCE_PAPERMILL
    tags: Mapping[str, Any] = field(default_factory=dict)
    parent_run_id: str | None = None
    executor: str | type = "local"
    workers: int = 1
    progress: bool = False

    def __post_init__(self) -> None:
        timeout = self.timeout
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ValidationError(
                f"--timeout must be a positive number of seconds, got {timeout!r}."
            )
        if self.source not in RUN_SOURCES:
            raise ValidationError(
                f"Unknown run source {self.source!r}; one of {', '.join(RUN_SOURCES)}."
            )
        check_workers(self.workers)
        if not isinstance(self.executor, (str, type)):
            raise ValidationError(
                f"executor must be 'local', 'dask://HOST:PORT' or an executor class, got "
                f"{self.executor!r}."
            )
        # Mutable inputs are copied, so the options a caller built cannot change under a run.
        object.__setattr__(self, "parameters", dict(self.parameters or {}))
        object.__setattr__(self, "text_parameters", dict(self.text_parameters or {}))
        object.__setattr__(self, "tags", dict(self.tags or {}))
        for attr in ("cwd", "output_dir"):
            value = getattr(self, attr)
            if value is not None:
                object.__setattr__(self, attr, os.path.abspath(os.fspath(value)))
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise ValidationError(
                f"--cwd {self.cwd!r} is not a folder; give an existing folder for the kernel to "
                "start in (the notebook's folder is the default)."
            )

    def but(self, **changes: Any) -> RunOptions:
        """Return a copy with ``changes`` applied (checked again)."""
        return replace(self, **changes)
