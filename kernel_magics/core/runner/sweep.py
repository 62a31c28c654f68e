"""Sweeps: one notebook, a grid of parameter sets, a parent run holding one child run per set.

Every point of the grid is checked against the notebook's ``parameters`` cell before anything
starts. The parent run (source ``sweep``) records the fixed parameters and the grid; the
children (source ``papermill``) execute through an executor, several at a time. With an
objective (``metrics.acc``) the best finished child is recorded on the parent as the tags
``mlops.best_run_id`` / ``mlops.best_value`` and the metric ``best_<name>``.
"""

from __future__ import annotations

import itertools
import json
import os
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..names import CRASHED, FAILED, FINISHED, KILLED, SOURCE_SWEEP, Tag
from . import RunResult, SweepResult
from .execute import RunPlan, prepare_plan, record_version
from .options import RunOptions
from .parameters import (
    convert_text,
    convert_value,
    parse_notebook_bytes,
    parse_parameters,
    validate_parameters,
)

if TYPE_CHECKING:
    from ..store import Store


def parse_objective(objective: str | None) -> str | None:
    """Return the metric name of ``metrics.<name>`` (None for no objective).

    Raises
    ------
    ValidationError
        When the objective is not ``metrics.<name>``.
    """
    if objective is None:
        return None
    prefix, _, metric = objective.partition(".")
    if prefix != "metrics" or not metric:
        raise ValidationError(
            f"--objective must name a metric as metrics.<name> (e.g. metrics.acc), not "
            f"{objective!r}."
        )
    return metric


def expand_grid(
    specs: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    origin: str,
    *,
    text: bool = False,
) -> list[dict[str, Any]]:
    """Every combination of the grid's values, converted to the parameters' types.

    Raises
    ------
    ValidationError
        When the grid is empty, a name has no values, or a value does not convert.
    """
    if not grid:
        raise ValidationError("A sweep needs at least one parameter with values, e.g. C=0.1,1.")
    columns = []
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValidationError(
                f"Sweep values of {name!r} must be a non-empty list, e.g. --sweep {name}=1,2,3."
            )
        validate_parameters(specs, {name: values[0]}, origin, from_text=text)  # known name
        convert = convert_text if text else convert_value
        columns.append([(name, convert(specs[name], v)) for v in values])
    return [dict(combo) for combo in itertools.product(*columns)]


def _label(point: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in point.items())


def run_sweep(
    path: str | os.PathLike[str],
    grid: Mapping[str, Sequence[Any]],
    options: RunOptions,
    *,
    text_grid: bool = False,
    objective: str | None = None,
    maximize: bool = False,
    store: Store | None = None,
) -> SweepResult:
    """Check, then execute, a sweep (the body of :func:`kernel_magics.sweep_notebook`).

    Parameters
    ----------
    path : path-like
        The notebook.
    grid : mapping of name to sequence
        The swept values; every combination is one child run.
    options : RunOptions
        Fixed parameters and options shared by every child (``name`` names the parent,
        ``executor`` and ``workers`` say where and how many children run at once).
    text_grid : bool
        The grid's values are text (``--sweep C=0.1,1``) to convert to the parameters' types.
    objective : str, optional
        ``metrics.<name>``: the best child is recorded on the parent.
    maximize : bool
        Best means largest (default: smallest).
    store : Store, optional
        Where to record the runs; the resolved default store when omitted.
    """
    from ..store import open_store
    from .executors import executor_for

    metric = parse_objective(objective)
    name = options.name
    base = prepare_plan(
        path, options.but(name=None), location=store.location if store is not None else None
    )
    nb = parse_notebook_bytes(base.notebook, base.stem)
    specs = parse_parameters(nb, base.stem)
    fixed_overlap = set(grid) & set(base.parameters)
    if fixed_overlap:
        raise ValidationError(
            f"{', '.join(sorted(fixed_overlap))} is both swept and fixed; drop the -p value."
        )
    points = expand_grid(specs, grid, os.path.basename(base.notebook_path), text=text_grid)
    with executor_for(
        options.executor, options.workers
    ) as runner:  # an unreachable cluster fails here
        store = store or open_store(base.location)
        record_version(store, base)
        parent_id = _create_parent(store, base, grid, points, name, metric, maximize, runner)
        flusher = store.writer
        flusher.add_run(parent_id, environment=True)
        plans = [
            replace(
                base,
                parameters={**base.parameters, **point},
                parent_run_id=parent_id,
                name=f"{base.stem} {_label(point)}",
            )  # fmt: skip
            for point in points
        ]
        try:
            children = runner.run_plans(plans, store=store, progress=options.progress)
        except KeyboardInterrupt:
            _end_parent(store, flusher, parent_id, KILLED, "Interrupted (Ctrl-C).")
            raise
        except BaseException:
            _end_parent(store, flusher, parent_id, CRASHED, traceback.format_exc())
            raise
    best_id, best_value = _mark_best(store, parent_id, children, metric, maximize)
    bad = [c for c in children if c.status != FINISHED]
    status = FINISHED if not bad else FAILED
    error = None
    if bad:
        error = f"{len(bad)} of {len(children)} child runs did not finish: " + ", ".join(
            f"{c.run_id[:8]} {c.status}" for c in bad[:10]
        )
    status, error = _end_parent(store, flusher, parent_id, status, error)
    return SweepResult(parent_id, status, children, best_id, best_value)


def _create_parent(
    store: Store, base: RunPlan, grid, points, name, metric, maximize, runner
) -> str:
    grid_params = {}
    for key in grid:  # the swept values, in grid order, each once
        values = list(dict.fromkeys(json.dumps(p[key], default=str) for p in points))
        grid_params[key] = "[" + ", ".join(values) + "]"
    tags = {**base.tags, Tag.SWEEP_SIZE: len(points), Tag.SWEEP_WORKERS: runner.workers}
    if metric:
        tags[Tag.SWEEP_OBJECTIVE] = f"{'max' if maximize else 'min'} metrics.{metric}"
    experiment_id = store.experiments.get_or_create(base.experiment)
    parent_id = store.runs.create(
        experiment_id, name=name or f"sweep {base.stem}", source=SOURCE_SWEEP,
        notebook_path=base.notebook_path, params={**base.parameters, **grid_params}, tags=tags,
    )  # fmt: skip
    if base.version_id is not None:
        store.runs.set_fields(parent_id, notebook_version_id=base.version_id)
    return parent_id


def _mark_best(
    store: Store, parent_id: str, children: list[RunResult], metric: str | None, maximize: bool
) -> tuple[str | None, float | None]:
    if metric is None:
        return None, None
    scored = []
    for child in children:
        if child.status == FINISHED:
            value = store.runs.get(child.run_id).metrics.get(metric)
            if value is not None:
                scored.append((value, child.run_id))
    if not scored:
        store.runs.set_tags(parent_id, {Tag.BEST_RUN_ID: "", Tag.BEST_NOTE:
                                        f"no finished child logged metrics.{metric}"})  # fmt: skip
        return None, None
    value, run_id = max(scored) if maximize else min(scored)
    store.runs.set_tags(parent_id, {Tag.BEST_RUN_ID: run_id, Tag.BEST_VALUE: value})
    store.runs.set_tags(run_id, {Tag.BEST: "true"})
    store.writer.points.append((parent_id, f"best_{metric}", 0, _now(), float(value)))
    return run_id, float(value)


def _now() -> float:
    import time

    return time.time()


def _end_parent(store: Store, flusher, parent_id: str, status: str, error: str | None):
    flusher.remove_run(parent_id)
    flusher.flush(wait_environment=5.0)
    if not store.runs.finish(parent_id, status, error):
        record = store.runs.get(parent_id)
        return record.status, record.error
    return status, error
