"""Everything about a run, and why two or more runs differ.

:func:`run_details` gathers one run for ``%mlops show``; :func:`compare_runs` lines runs up
against the first one (the baseline) for ``%mlops compare``: params, metrics (with their curves),
datasets (content hashes), environment (Python and package versions) and code (the tracked
cell's source and the notebook version), and says in plain sentences what differs.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from ..errors import ArtifactNotFoundError, BlobNotFoundError, MissingExtraError, ValidationError
from .store import Store

#: The artifact where ``%%mlops track`` stores the cell's source.
CELL_SOURCE_PATH = "cell/source.py"
#: Points per metric curve returned for plots.
CURVE_POINTS = 500


def resolve_run(store: Store, ref: str) -> str:
    """Resolve a run reference: a full id, a 4+ character prefix, or ``last`` (the newest run).

    Raises
    ------
    RunNotFoundError
        When nothing (or more than one run) matches.
    """
    return store.run_reads().resolve_ref(ref)


def read_environment(store: Store, environment_hash: str | None) -> dict[str, Any] | None:
    """Return the environment a run recorded (Python, platform, packages, git), if any."""
    if not environment_hash:
        return None
    try:
        return json.loads(store.blobs.get_bytes(environment_hash))
    except (BlobNotFoundError, ValueError):
        return None


def cell_source(store: Store, run_id: str) -> str | None:
    """Return the source of the tracked cell that made the run (None for other runs)."""
    try:
        data, _ = store.artifacts.read(run_id, CELL_SOURCE_PATH)
    except ArtifactNotFoundError:
        return None
    return data.decode("utf-8", errors="replace")


def metric_curves(store: Store, run_id: str, keys: list[str] | None = None) -> dict[str, list]:
    """``{metric: [(step, value), ...]}`` thinned to :data:`CURVE_POINTS` points."""
    keys = store.runs.metric_keys(run_id) if keys is None else keys
    curves = {}
    for key in keys:
        points = store.runs.metric_history(run_id, key, max_points=CURVE_POINTS)
        curves[key] = [(p["step"], p["value"]) for p in points]
    return curves


def run_details(store: Store, ref: str) -> dict[str, Any]:
    """Gather one run: its record, metric curves, environment, cell source, notebook version.

    Parameters
    ----------
    store : Store
        The store to read.
    ref : str
        Run id, unique prefix, or ``last``.

    Returns
    -------
    dict
        ``run`` (the record as a dict), ``curves``, ``environment``, ``cell_source``,
        ``notebook_version`` (dict or None).
    """
    from .notebooks import get_notebook_version

    record = store.runs.get(resolve_run(store, ref))
    version = None
    if record.notebook_version_id is not None:
        version = get_notebook_version(store, record.notebook_version_id).to_dict()
    return {
        "run": record.to_dict(),
        "curves": metric_curves(store, record.id),
        "environment": read_environment(store, record.environment_hash),
        "cell_source": cell_source(store, record.id),
        "notebook_version": version,
    }


def _rows(dicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = sorted({k for d in dicts for k in d})
    rows = []
    for key in keys:
        values = [d.get(key) for d in dicts]
        rows.append({"key": key, "values": values, "differs": len({repr(v) for v in values}) > 1})
    return rows


def _packages(envs: list[dict | None]) -> tuple[list[dict], list[str | None]]:
    pythons = [e.get("python") if e else None for e in envs]
    known = [e.get("packages", {}) if e else {} for e in envs]
    rows = [r for r in _rows(known) if r["differs"]] if all(envs) else []
    return rows, pythons


def _code_diff(a: str | None, b: str | None, name_a: str, name_b: str) -> list[str]:
    if a is None or b is None or a == b:
        return []
    return list(
        difflib.unified_diff(
            a.splitlines(), b.splitlines(), f"run {name_a}", f"run {name_b}", lineterm=""
        )
    )


def _notebook_diff(
    store: Store, a: int | None, b: int | None, problems: list[str]
) -> dict[str, Any] | None:
    if a is None or b is None or a == b:
        return None
    from .notebooks import diff_notebooks, get_notebook_content

    try:
        diff = diff_notebooks(get_notebook_content(store, a), get_notebook_content(store, b))
    except BlobNotFoundError:  # pruned by `mlops gc`: the comparison goes on without it
        return None
    except MissingExtraError as exc:  # a kernel without nbdime: the rest still compares
        problems.append(f"The runs used different notebook versions, not diffed here. {exc}")
        return None
    changed = [c for c in diff["cells"] if c["status"] != "unchanged"]
    return {"from": a, "to": b, "summary": diff["summary"], "cells": changed}


def compare_runs(store: Store, refs: list[str]) -> dict[str, Any]:
    """Line runs up against the first one and explain what differs.

    Parameters
    ----------
    store : Store
        The store to read.
    refs : list of str
        Two or more run ids (or prefixes, or ``last``); the first is the baseline.

    Returns
    -------
    dict
        ``runs`` (id, name, status, experiment), ``params``/``metrics``/``datasets``/``packages``
        rows (``key``, ``values`` per run, ``differs``), ``python`` versions, ``curves``
        (metric -> run id -> points, for metrics every run logged), ``code`` (unified diffs of
        each run's cell source against the baseline's), ``notebook`` (cell-by-cell notebook
        version diffs against the baseline), and ``summary``: sentences saying why they differ.

    Raises
    ------
    ValidationError
        When fewer than two distinct runs are given.
    """
    ids = list(dict.fromkeys(resolve_run(store, r) for r in refs))
    if len(ids) < 2:
        raise ValidationError("Compare needs two different runs (the same run was given twice).")
    records = [store.runs.get(i) for i in ids]
    short = [r.id[:8] for r in records]
    envs = [read_environment(store, r.environment_hash) for r in records]
    packages, pythons = _packages(envs)
    datasets = [{d["name"]: d["hash"][:12] for d in r.datasets} for r in records]
    sources = [cell_source(store, r.id) for r in records]
    common = set(records[0].metrics).intersection(*(set(r.metrics) for r in records[1:]))
    curves: dict[str, dict[str, list]] = {}
    problems: list[str] = []  # what could not be compared, and the fix
    for key in sorted(common)[:6]:
        # One read per metric for every run (not one per run and metric: 150 reads for 50 runs)
        series = store.runs.metric_histories(ids, key, max_points=CURVE_POINTS)
        curves[key] = {
            r.id: list(zip(series[r.id]["steps"], series[r.id]["values"], strict=True))
            if r.id in series
            else []
            for r in records
        }
    result: dict[str, Any] = {
        "runs": [
            {"id": r.id, "name": r.name, "status": r.status, "experiment": r.experiment,
             "notebook_version_id": r.notebook_version_id}
            for r in records
        ],
        "params": _rows([r.params for r in records]),
        "metrics": _rows([r.metrics for r in records]),
        "datasets": _rows(datasets),
        "packages": packages,
        "python": pythons,
        "curves": curves,
        "code": {short[i]: _code_diff(sources[0], sources[i], short[0], short[i])
                 for i in range(1, len(records))},
        "notebook": {short[i]: _notebook_diff(store, records[0].notebook_version_id,
                                              records[i].notebook_version_id, problems)
                     for i in range(1, len(records))},
    }  # fmt: skip
    result["summary"] = _summary(result, envs, problems)
    return result


def _names(rows: list[dict], limit: int = 6) -> str:
    names = [r["key"] for r in rows if r["differs"]]
    text = ", ".join(names[:limit])
    return text + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _summary(result: dict[str, Any], envs: list, problems: list[str]) -> list[str]:
    lines = []
    for section, label in (("params", "Params"), ("datasets", "Datasets"), ("metrics", "Metrics")):
        if any(r["differs"] for r in result[section]):
            lines.append(f"{label} differ: {_names(result[section])}.")
    if len(set(result["python"])) > 1:
        lines.append(f"Python versions differ: {' vs '.join(map(str, result['python']))}.")
    if result["packages"]:
        lines.append(
            f"Packages differ: {_names([{**r, 'differs': True} for r in result['packages']])}."
        )
    elif not all(envs):
        lines.append(
            "The environment of some runs was not recorded, so packages cannot be compared."
        )
    if any(result["code"].values()):
        lines.append("The tracked cell's code differs.")
    notebook = [d for d in result["notebook"].values() if d]
    if notebook:
        changed = sum(
            d["summary"]["changed"] + d["summary"]["added"] + d["summary"]["removed"]
            for d in notebook
        )
        lines.append(f"The notebook differs ({changed} cells changed, added or removed).")
    lines += dict.fromkeys(problems)
    if not lines:
        lines.append("No recorded difference: same params, data, environment and code.")
    return lines


def side_by_side(store: Store, refs: list[str]) -> dict[str, Any]:
    """Line up runs for a comparison table: rows, params and metrics with differing ones first.

    Lighter than :func:`compare_runs` (no curves, environments or notebook diffs: the panel
    fetches those per metric and per diff); the side panel's compare view starts from it.

    Parameters
    ----------
    store : Store
        The store to read.
    refs : list of str
        Two or more run ids or unique prefixes; the first is the baseline.

    Returns
    -------
    dict
        ``runs`` (table rows, each with ``cell_source``), ``params`` and ``metrics`` (``key``,
        ``values`` by run id without the runs that lack it, ``differs``; differing rows first,
        then by key), ``metric_keys`` (any run) and ``common_metric_keys`` (every run).

    Raises
    ------
    ValidationError
        When fewer than two distinct runs are given.
    RunNotFoundError
        When a reference names no run (or several).
    """
    from .store.summaries import run_summaries

    full = store.runs.existing(r for r in refs if len(r) == 32)  # one query for full ids
    ids = list(dict.fromkeys(r if r in full else store.runs.resolve_id(r) for r in refs))
    if len(ids) < 2:
        raise ValidationError("Compare needs two different runs (the same run was given twice).")
    rows = run_summaries(store, ids)
    sources = store.artifacts.blob_hashes(ids, CELL_SOURCE_PATH)
    for row in rows:
        digest = sources.get(row["id"])
        row["cell_source"] = None
        if digest is not None:
            try:
                data = store.blobs.get_bytes(digest)
            except BlobNotFoundError:  # pruned by `mlops gc`: the comparison goes on without it
                continue
            row["cell_source"] = data.decode("utf-8", errors="replace")

    def lined_up(kind: str) -> list[dict[str, Any]]:
        keys = sorted({k for row in rows for k in row[kind]})
        found = []
        for key in keys:
            values = {row["id"]: row[kind][key] for row in rows if key in row[kind]}
            differs = len(values) < len(rows) or len({repr(v) for v in values.values()}) > 1
            found.append({"key": key, "values": values, "differs": differs})
        return sorted(found, key=lambda r: not r["differs"])  # stable: by key within each

    metric_sets = [set(row["metrics"]) for row in rows]
    return {
        "runs": rows,
        "params": lined_up("params"),
        "metrics": lined_up("metrics"),
        "metric_keys": sorted(set().union(*metric_sets)),
        "common_metric_keys": sorted(set.intersection(*metric_sets)),
    }
