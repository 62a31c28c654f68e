"""Run reports: the facts of one or more runs, and why they differ, as one shareable document.

The facts come from :mod:`kernel_magics.core.compare` (the same ones ``%mlops compare``
explains) and the tables from :mod:`kernel_magics.core.views`; this module only lays them out
for :mod:`.render`. Sections: runs, summary and warnings (``unordered`` included), params
(differing first), metrics with one overlaid chart per metric, datasets, environment
differences, code (cell sources and their diff) and the notebook versions rendered.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..names import run_warnings
from ..views.formatting import short_id, value
from ..views.table import Column, Table
from .charts import curves_chart
from .notes import notes_section
from .render import Document

if TYPE_CHECKING:
    from ..store import Store
    from ..store.records import RunRecord

#: At most this many metric charts in one report (the metrics table lists every metric).
MAX_CHARTS = 12
#: At most this many runs in one report: a table wider than this is unreadable on paper.
MAX_RUNS = 20


def _label(record: RunRecord) -> str:
    return f"{short_id(record.id)} {record.name or ''}".strip()


def _lined_up(title: str, key: str, dicts: list[dict], labels: list[str]) -> tuple[Table, list]:
    """A key x run table, the keys whose values differ first (then by key)."""
    keys = sorted({k for d in dicts for k in d})
    rows = []
    for k in keys:
        values = [d.get(k) for d in dicts]
        differs = len(dicts) > 1 and len({repr(v) for v in values}) > 1
        rows.append((not differs, k, values, differs))
    rows.sort(key=lambda r: (r[0], r[1]))
    columns = [Column(key, priority=100), *(Column(lbl, "number", 80) for lbl in labels)]
    body = [[k, *(value(v) for v in values)] for _, k, values, _ in rows]
    return Table(columns, body, title), [r[3] for r in rows]


def _environment_rows(compared: dict[str, Any] | None, envs: list[dict | None], labels: list[str]):
    """Python, platform and git per run, then every package whose version differs."""
    rows: list[tuple[str, list[Any]]] = [
        ("python", [e.get("python") if e else None for e in envs]),
        ("platform", [e.get("platform") if e else None for e in envs]),
        ("git commit", [((e or {}).get("git") or {}).get("commit", "")[:12] or None
                        for e in envs]),
        ("git dirty", [((e or {}).get("git") or {}).get("dirty") for e in envs]),
    ]  # fmt: skip
    for row in (compared or {}).get("packages", []):
        rows.append((f"package {row['key']}", row["values"]))
    columns = [Column("Environment", priority=100), *(Column(lbl, priority=80) for lbl in labels)]
    differs = [len(labels) > 1 and len({repr(v) for v in vals}) > 1 for _, vals in rows]
    body = [[k, *(value(v) for v in vals)] for k, vals in rows]
    note = "" if all(envs) else "Some runs recorded no environment."
    return Table(columns, body, "Environment", note), differs


def _datasets_table(records: list[RunRecord]) -> Table:
    rows = [
        [short_id(r.id), d["name"], d["role"], value(d.get("rows")), d["hash"][:12]]
        for r in records
        for d in r.datasets
    ]
    return Table(
        [Column("Run", "id", 100), Column("Dataset", priority=90), Column("Role"),
         Column("Rows", "number"), Column("Hash", "id", 60)],
        rows, "Datasets", "" if rows else "No run recorded a dataset.",
    )  # fmt: skip


def _notebooks(store: Store, records: list[RunRecord], compared: dict | None) -> dict[str, Any]:
    """Each distinct notebook version (rendered), and its cell diff against the baseline's."""
    from ..notebooks import get_notebook_content, get_notebook_version
    from .notebook_html import notebook_html

    versions: dict[int, list[str]] = {}
    for r in records:
        if r.notebook_version_id is not None:
            versions.setdefault(r.notebook_version_id, []).append(short_id(r.id))
    rendered = []
    for version_id, runs in versions.items():
        try:
            version = get_notebook_version(store, version_id)
            html = notebook_html(get_notebook_content(store, version_id))
        except Exception as exc:  # pruned blob or unreadable file: the report goes on without it
            rendered.append(
                {"id": version_id, "runs": runs, "error": str(exc), "path": None, "hash": None}
            )
            continue
        rendered.append({"id": version_id, "path": version.path, "runs": runs, "html": html,
                         "hash": version.blob_hash[:12], "error": None})  # fmt: skip
    diffs = [
        {"run": run, **diff}
        for run, diff in ((compared or {}).get("notebook") or {}).items()
        if diff
    ]
    return {"versions": rendered, "diffs": diffs}


def run_sections(store: Store, run_ids: list[str]) -> dict[str, Any]:
    """Everything a run report shows, for already resolved ``run_ids`` (baseline first).

    Returns
    -------
    dict
        Template context: ``runs`` (table), ``summary``, ``warnings``, ``params`` / ``metrics``
        / ``environment`` (tables with ``*_differs`` flags per row), ``datasets``, ``curves``
        (metric -> label -> points), ``code`` and ``notebooks``, ``notes``.
    """
    from ..compare import cell_source, compare_runs, metric_curves, read_environment
    from ..store.summaries import run_summaries
    from ..views.runs import runs_table

    records = [store.runs.get(i) for i in run_ids]
    labels = [_label(r) for r in records]
    compared = compare_runs(store, run_ids) if len(run_ids) > 1 else None
    envs = [read_environment(store, r.environment_hash) for r in records]
    params, params_differ = _lined_up("Params", "Param", [r.params for r in records], labels)
    metrics, metrics_differ = _lined_up("Metrics", "Metric", [r.metrics for r in records], labels)
    environment, environment_differ = _environment_rows(compared, envs, labels)
    keys = sorted({k for r in records for k in r.metrics})[:MAX_CHARTS]
    curves: dict[str, dict[str, list]] = {k: {} for k in keys}
    for record, label in zip(records, labels, strict=True):
        for key, points in metric_curves(
            store, record.id, [k for k in keys if k in record.metrics]
        ).items():
            curves[key][label] = points
    sources = [cell_source(store, r.id) for r in records]
    code = [
        {"run": label, "source": source,
         "diff": (compared or {}).get("code", {}).get(short_id(r.id), [])}
        for r, label, source in zip(records, labels, sources, strict=True)
    ]  # fmt: skip
    summary = compared["summary"] if compared else []
    warnings = [(label, w) for r, label in zip(records, labels, strict=True)
                for w in run_warnings(r.tags)]  # fmt: skip
    return {
        "runs": runs_table(run_summaries(store, run_ids), keys=0),
        "summary": summary,
        "warnings": warnings,
        "params": params,
        "params_differ": params_differ,
        "metrics": metrics,
        "metrics_differ": metrics_differ,
        "metric_keys": keys,
        "curves": curves,
        "datasets": _datasets_table(records),
        "environment": environment,
        "environment_differ": environment_differ,
        "code": code,
        "notebooks": _notebooks(store, records, compared),
        "notes": notes_section(store, "run", run_ids),
    }


def _document(title: str, sections: dict[str, Any], leaderboard: Table | None) -> Document:
    doc = Document("report", title, {})
    charts = []
    for key, series in sections.pop("curves").items():
        if any(len(points) > 1 for points in series.values()):  # one point is no curve
            charts.append(doc.add_chart(curves_chart(key, series)))
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc.context = {**sections, "charts": charts, "leaderboard": leaderboard,
                   "generated": generated}  # fmt: skip
    return doc


def run_report(store: Store, refs: list[str], title: str | None = None) -> Document:
    """A report of the runs ``refs`` name (ids, unique prefixes or ``last``).

    The first run is the baseline the others are compared with.

    Raises
    ------
    ValidationError
        With no run, or more than :data:`MAX_RUNS`.
    RunNotFoundError
        When a reference names no run (or several).
    """
    from ..compare import resolve_run
    from ..extras import require

    require("report", feature="mlops report")
    if not refs:
        raise ValidationError("Name at least one run: mlops report RUN [RUN ...] -o report.html.")
    ids = list(dict.fromkeys(resolve_run(store, r) for r in refs))
    if len(ids) > MAX_RUNS:
        raise ValidationError(
            f"A report holds at most {MAX_RUNS} runs ({len(ids)} given); pick fewer, or use "
            "--experiment NAME --top N for a leaderboard."
        )
    sections = run_sections(store, ids)
    label = ", ".join(short_id(i) for i in ids)
    return _document(title or f"Runs {label}", sections, None)


def leaderboard_report(
    store: Store, experiment: str, by: str, top: int = 10, title: str | None = None
) -> Document:
    """A leaderboard: the ``top`` runs of ``experiment`` by ``by``, ranked, then reported.

    ``by`` is ``metrics.auc`` (highest first) or ``metrics.loss ASC``; the runs are then
    reported like :func:`run_report`, the best run as the baseline.

    Raises
    ------
    ValidationError
        For ``top`` outside 1..:data:`MAX_RUNS`, or ``by`` that is not ``metrics.NAME``.
    ExperimentNotFoundError
        For an unknown experiment (the message lists known ones).
    """
    from ..extras import require
    from ..views.runs import list_runs

    require("report", feature="mlops report")
    if not 1 <= top <= MAX_RUNS:
        raise ValidationError(f"--top must be between 1 and {MAX_RUNS}, e.g. --top 10.")
    field, _, direction = by.strip().partition(" ")
    direction = direction.strip().upper() or "DESC"
    if not field.startswith("metrics.") or direction not in ("ASC", "DESC"):
        raise ValidationError(
            f"--by takes a metric and an optional direction, e.g. --by metrics.auc or "
            f"--by 'metrics.loss ASC' (got {by!r})."
        )
    metric = field.removeprefix("metrics.")
    # Only runs that logged the metric: every finite value is >= -max float, a run without the
    # metric matches no condition on it (and NULLs sort first on PostgreSQL in DESC order).
    rows = list_runs(store, [experiment], filter=f"{field} >= -1.7976931348623157e308",
                     order_by=[f"{field} {direction}"], limit=top)  # fmt: skip
    if not rows:
        raise ValidationError(
            f"No run of experiment {experiment!r} logged the metric {metric!r}; check the name "
            "with `mlops runs ls --experiment NAME`."
        )
    table = Table(
        [Column("Rank", "number", 100), Column("Run", "id", 100), Column("Name", priority=80),
         Column("Status", "status", 70), Column(field, "number", 95)],
        [[str(i), short_id(r["id"]), value(r["name"]), r["status"], value(r["metrics"][metric])]
         for i, r in enumerate(rows, 1)],
        f"Leaderboard: {experiment}, top {len(rows)} by {field} "
        f"({'highest' if direction == 'DESC' else 'lowest'} first)",
    )  # fmt: skip
    sections = run_sections(store, [r["id"] for r in rows])
    return _document(title or f"Leaderboard of {experiment}", sections, table)
