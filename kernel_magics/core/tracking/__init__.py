"""The tracking API: runs and everything logged into them.

``import kernel_magics as mlops`` re-exports the functions here. A run is started with
:func:`start_run` (a context manager too), or attached to when ``MLOPS_RUN_ID`` names an existing
run (that is how notebooks executed by ``mlops run`` log into the runner's run).

Modules by responsibility: :mod:`.run` (the run object), :mod:`.stack` (the active-run stack),
:mod:`.hooks` (SIGTERM, uncaught exceptions, exit), :mod:`.api` (the public functions). Metric
points are written by the store's background writer (:mod:`kernel_magics.core.store.writer`).
"""

from __future__ import annotations

from .api import (
    _require_run,
    active_run,
    end_run,
    get_run,
    load_dataset,
    log_artifact,
    log_artifacts,
    log_dataset,
    log_dict,
    log_figure,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    runs,
    set_tag,
    set_tags,
    start_run,
)
from .hooks import Terminated
from .run import Run
from .stack import RUN_ID_ENV, _active

__all__ = [
    "RUN_ID_ENV",
    "Run",
    "Terminated",
    "_active",
    "_require_run",
    "active_run",
    "end_run",
    "get_run",
    "log_artifact",
    "log_artifacts",
    "load_dataset",
    "log_dataset",
    "log_dict",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "runs",
    "set_tag",
    "set_tags",
    "start_run",
]
