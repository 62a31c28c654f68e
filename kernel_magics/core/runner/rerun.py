"""Reruns: execute a past run's exact notebook version with its parameters, then compare.

The new run is tagged ``mlops.rerun_of=<original id>`` and the report lists every difference:
status, metrics (equal within a relative tolerance), parameters, dataset content hashes (naming
each dataset whose content changed), Python and package versions, and the notebook version;
wall-clock timings (``fit_time_s``) are listed as not compared. A rerun with no difference
certifies the original, e.g. an interactive run whose cells executed out of order. The rerun of
a run made by one tracked cell is compared with the run that same cell makes in the rerun.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..data.rerun_data import DataRestore, build_overlay, plan_restores, remove_overlay
from ..names import SOURCE_CELL, SOURCE_PAPERMILL, SOURCE_SWEEP, Tag, is_timing
from . import RunResult
from .execute import prepare_plan
from .options import RunOptions
from .parameters import parse_notebook_bytes, parse_parameters

if TYPE_CHECKING:
    from ..store import Store
    from ..store.records import RunRecord

RERUN_TAG = Tag.RERUN_OF
#: Set on the original run when a rerun reproduced it exactly.
REPRODUCED_TAG = Tag.REPRODUCED_BY


@dataclass
class Difference:
    """One way the rerun differs from the original.

    Attributes
    ----------
    kind : str
        ``status``, ``cell``, ``metric``, ``param``, ``dataset``, ``python``, ``package`` or
        ``notebook``.
    name : str
        What differs (metric, parameter, dataset or package name).
    original, rerun : Any
        The two values (None when absent on that side).
    note : str
        One sentence for people.
    """

    kind: str
    name: str
    original: Any
    rerun: Any
    note: str


@dataclass
class CellMatch:
    """Which run of the clean execution a cell run was compared with.

    Attributes
    ----------
    run_id : str
        The run the same tracked cell made in the rerun (a child of the rerun's run).
    by : str
        ``cell id`` or ``source hash``: how the cell was recognised.
    value : str
        The cell id or source hash that matched.
    """

    run_id: str
    by: str
    value: str


@dataclass
class RerunReport:
    """A rerun's result and how it differs from the original run.

    Attributes
    ----------
    original_run_id : str
        The run that was repeated.
    result : RunResult
        The rerun's execution of the whole notebook.
    differences : list of Difference
        Every difference found (empty: reproduced).
    tolerance : float
        Relative tolerance of the metric comparison.
    compared_run_id : str
        The run compared with the original: the rerun itself, or for a cell run the run the
        same cell made in the rerun.
    cell : CellMatch or None
        For a cell run, which cell of the rerun it was matched with (None: no cell matched).
    not_compared : list of str
        Wall-clock params and metrics (``fit_time_s``...) left out of the comparison: a
        deterministic notebook reproduces its results, not its timings.
    data : list of DataRestore
        For each file or folder the original read: restored (it changed since), unchanged,
        current (changed; ``with_current_data``) or not restored, with why.
    """

    original_run_id: str
    result: RunResult
    differences: list[Difference] = field(default_factory=list)
    tolerance: float = 1e-9
    compared_run_id: str = ""
    cell: CellMatch | None = None
    not_compared: list[str] = field(default_factory=list)
    data: list[DataRestore] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether the rerun reproduced the original exactly (within the tolerance)."""
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        data = asdict(self)
        data["identical"] = self.identical
        return data


def rerun_run(
    run_id: str,
    options: RunOptions | None = None,
    *,
    tolerance: float = 1e-9,
    store: Store | None = None,
    with_current_data: bool = False,
) -> RerunReport:
    """Re-execute a run and compare (the body of :func:`kernel_magics.rerun`).

    Files and folders the original read that changed since are restored to the versions it
    read (see :mod:`kernel_magics.core.data.rerun_data`), unless ``with_current_data``: then
    today's files are used and the comparison names each dataset whose content changed.

    A run made by one tracked cell (source ``cell``) is compared with the run the same cell
    makes in the clean execution (found by cell id, else by source hash), not with the whole
    notebook's run: other cells' metrics and failures are not the cell's.

    Parameters
    ----------
    run_id : str
        The original run (full id or a unique prefix).
    options : RunOptions, optional
        ``timeout``, ``kernel``, ``cwd``, ``output_dir`` and ``progress`` of the rerun; the
        parameters, experiment and name come from the original.
    tolerance : float
        Relative tolerance under which two metric values count as equal.
    store : Store, optional
        The store of the original run; the resolved default store when omitted.

    Raises
    ------
    RunNotFoundError
        When no run has that id.
    ValidationError
        When the run cannot be re-executed (no stored notebook version, a sweep's parent).
    """
    from ..notebooks import get_notebook_version
    from ..store import open_store
    from .executors import LocalRunExecutor

    options = options or RunOptions()
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise ValidationError(f"--tolerance must be a number >= 0, got {tolerance!r}.")
    store = store or open_store()
    original = store.runs.get(run_id)
    version_id = _check_rerunnable(store, original)
    version = get_notebook_version(store, version_id)
    content = store.blobs.get_bytes(version.blob_hash)
    nb = parse_notebook_bytes(content, os.path.basename(version.path))
    specs = parse_parameters(nb, os.path.basename(version.path))
    # Parameters logged from inside the notebook are not notebook parameters: it logs them again.
    text = {k: v for k, v in original.params.items() if k in specs}
    is_cell = original.source == SOURCE_CELL
    plan = prepare_plan(
        original.notebook_path or version.path,
        options.but(
            text_parameters=text, parameters={}, experiment=original.experiment,
            name=f"rerun of {original.name or original.id[:8]}", source=SOURCE_PAPERMILL,
            kernel=options.kernel or original.tags.get(Tag.KERNEL), tags={RERUN_TAG: original.id},
        ),
        notebook=content, location=store.location,
    )  # fmt: skip
    plan.version_id = version.id
    plan.cell_runs = is_cell
    data, swaps = plan_restores(store, original.datasets, Path(plan.cwd), with_current_data)
    overlay = build_overlay(store, Path(plan.cwd), swaps) if swaps else None
    if overlay is not None:
        plan.cwd = str(overlay)
    try:
        with LocalRunExecutor(1) as executor:
            result = executor.run_plans([plan], store=store, progress=options.progress)[0]
    finally:
        if overlay is not None:
            remove_overlay(overlay)
    rerun = store.runs.get(result.run_id)
    cell = None
    compared = rerun
    if is_cell:
        cell, differences, compared = _compare_cell(store, original, rerun, tolerance)
    else:
        differences = compare(store, original, rerun, tolerance)
    store.runs.set_tags(
        rerun.id, {Tag.RERUN_DIFFERENCES: len(differences),
                   Tag.RERUN_IDENTICAL: "true" if not differences else "false"},
    )  # fmt: skip
    if not differences:
        # The certificate an interactive run (e.g. one marked ``unordered``) can show.
        store.runs.set_tags(original.id, {REPRODUCED_TAG: rerun.id})
    return RerunReport(original.id, result, differences, tolerance, compared.id, cell,
                       timing_keys(original, compared), data)  # fmt: skip


def _check_rerunnable(store: Store, original: RunRecord) -> int:
    """Return the notebook version to re-execute; refuse, saying what to do, a run without one."""
    if original.source == SOURCE_SWEEP:
        children = store.search_runs(filter=f"parent_run_id = '{original.id}'", count=True)
        raise ValidationError(
            f"Run {original.id[:8]} is a sweep's parent ({children.total or 0} child runs): its "
            "parameters are the grid, not values. Rerun the children (`mlops rerun CHILD`), or "
            "the sweep with `mlops run NOTEBOOK --sweep NAME=V1,V2`."
        )
    if original.notebook_version_id is None:
        raise ValidationError(
            f"Run {original.id[:8]} has no stored notebook version, so there is nothing to "
            "re-execute. Runs of `mlops run`, sweeps, schedules and %%mlops track cells store one."
        )
    return original.notebook_version_id


def _compare_cell(
    store: Store, original: RunRecord, rerun: RunRecord, tolerance: float
) -> tuple[CellMatch | None, list[Difference], RunRecord]:
    """Compare a cell run with the run the same cell made in the rerun."""
    cell_id, cell_hash = original.tags.get(Tag.CELL_ID), original.tags.get(Tag.CELL_HASH)
    page = store.search_runs(filter=f"parent_run_id = '{rerun.id}'", order_by="start_time ASC")
    children = [store.runs.get(child_id) for child_id in page.run_ids]
    match = None
    for by, key, value in (("cell id", Tag.CELL_ID, cell_id), ("source hash", Tag.CELL_HASH,
                                                                 cell_hash)):  # fmt: skip
        found = next((c for c in children if value and c.tags.get(key) == value), None)
        if found is not None and value:
            match = CellMatch(found.id, by, value)
            break
    if match is None:
        note = (
            f"No tracked cell of the rerun has cell id {cell_id or '(none)'} or source hash "
            f"{(cell_hash or '(none)')[:12]}: the cell is not in the stored notebook version, or "
            "it did not execute (an earlier cell failed)."
        )
        diffs = [Difference("cell", "cell", cell_id or cell_hash, None, note)]
        if rerun.status != original.status:
            diffs += compare(store, original, rerun, tolerance)[:1]  # the status line only
        return None, diffs, rerun
    cell_run = store.runs.get(match.run_id)
    # The cell's run has no notebook version of its own: the rerun's is the one it executed.
    cell_run = replace(cell_run, notebook_version_id=rerun.notebook_version_id)
    return match, compare(store, original, cell_run, tolerance), cell_run


def timing_keys(a: RunRecord, b: RunRecord) -> list[str]:
    """Wall-clock params and metrics of either run, which :func:`compare` leaves out."""
    keys = set(a.metrics) | set(b.metrics) | set(a.params) | set(b.params)
    return sorted(key for key in keys if is_timing(key))


def _close(a: float, b: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def compare(store: Store, a: RunRecord, b: RunRecord, tolerance: float) -> list[Difference]:
    """Every difference between an original run ``a`` and its rerun ``b``.

    Wall-clock params and metrics (:func:`~kernel_magics.core.names.is_timing`) are not
    compared; :func:`timing_keys` lists them for the report.
    """
    diffs: list[Difference] = []
    if a.status != b.status:
        note = f"The original ended {a.status}, the rerun {b.status}"
        diffs.append(Difference("status", "status", a.status, b.status,
                                note + (f": {b.error}" if b.error else ".")))  # fmt: skip
    # causes first (code, data, environment), then what they changed
    if a.notebook_version_id != b.notebook_version_id:
        note = "The notebook versions differ."
        diffs.append(Difference("notebook", "version", a.notebook_version_id,
                                b.notebook_version_id, note))  # fmt: skip
    diffs += _dataset_differences(a, b)
    diffs += _environment_differences(store, a, b)
    # Wall-clock timings are left out (reported as not compared): they are never reproduced.
    for key in sorted(k for k in set(a.metrics) | set(b.metrics) if not is_timing(k)):
        va, vb = a.metrics.get(key), b.metrics.get(key)
        if va is None or vb is None:
            side = "the rerun" if va is None else "the original"
            diffs.append(Difference("metric", key, va, vb, f"Metric {key} only in {side}."))
        elif not _close(va, vb, tolerance):
            diffs.append(Difference("metric", key, va, vb,
                                    f"Metric {key} changed from {va:g} to {vb:g}."))  # fmt: skip
    for key in sorted(k for k in set(a.params) | set(b.params) if not is_timing(k)):
        if a.params.get(key) != b.params.get(key):
            diffs.append(Difference("param", key, a.params.get(key), b.params.get(key),
                                    f"Parameter {key} differs."))  # fmt: skip
    return diffs


def _dataset_differences(a: RunRecord, b: RunRecord) -> list[Difference]:
    diffs = []
    by_name_a = {(d["name"], d["role"]): d for d in a.datasets}
    by_name_b = {(d["name"], d["role"]): d for d in b.datasets}
    for key in sorted(set(by_name_a) | set(by_name_b)):
        da, db = by_name_a.get(key), by_name_b.get(key)
        name = key[0]
        if da is None or db is None:
            side = "the rerun" if da is None else "the original"
            diffs.append(Difference("dataset", name, da and da["hash"], db and db["hash"],
                                    f"Dataset {name!r} was only read by {side}."))  # fmt: skip
        elif da["hash"] != db["hash"]:
            rows = ""
            if da.get("rows") != db.get("rows"):
                rows = f" ({da.get('rows')} -> {db.get('rows')} rows)"
            diffs.append(Difference(
                "dataset", name, da["hash"], db["hash"],
                f"Dataset {name!r} changed content: {da['hash'][:10]} -> {db['hash'][:10]}{rows}.",
            ))  # fmt: skip
    return diffs


def _environment_differences(store: Store, a: RunRecord, b: RunRecord) -> list[Difference]:
    from ..compare import read_environment

    env_a = read_environment(store, a.environment_hash)
    env_b = read_environment(store, b.environment_hash)
    if env_a is None or env_b is None or a.environment_hash == b.environment_hash:
        return []
    diffs = []
    if env_a.get("python") != env_b.get("python"):
        diffs.append(Difference("python", "python", env_a.get("python"), env_b.get("python"),
                                "The Python versions differ."))  # fmt: skip
    pa, pb = env_a.get("packages") or {}, env_b.get("packages") or {}
    for name in sorted(set(pa) | set(pb)):
        if pa.get(name) != pb.get(name):
            note = f"{name} {pa.get(name) or '(absent)'} -> {pb.get(name) or '(absent)'}"
            diffs.append(Difference("package", name, pa.get(name), pb.get(name), note))
    return diffs
