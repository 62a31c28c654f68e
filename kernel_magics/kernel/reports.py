"""HTML (and plain-text) reports for ``%mlops show`` and ``%mlops compare``.

A :class:`Report` carries the data it shows (``report.data``, a dict from
:mod:`kernel_magics.core.compare`) and renders as HTML with inline PNG plots in notebooks and as
text elsewhere, so ``r = %mlops compare A B`` also gives the numbers to code.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from typing import Any

_STYLE = "<style>.mlops-report td,.mlops-report th{padding:2px 8px;text-align:left}</style>"


class Report:
    """A rendered view over ``data`` (HTML for notebooks, text for terminals)."""

    def __init__(self, data: dict[str, Any], html_text: str, text: str):
        self.data = data
        self._html = html_text
        self._text = text

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text


def _img(png: bytes | None) -> str:
    if not png:
        return ""
    return f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}'/>"


def _table(head: list[str], rows: list[list[Any]], highlight: list[bool] | None = None) -> str:
    out = ["<table class='mlops-report'><tr>"]
    out += [f"<th>{html.escape(str(h))}</th>" for h in head] + ["</tr>"]
    for i, row in enumerate(rows):
        style = " style='background:rgba(255,200,0,0.25)'" if highlight and highlight[i] else ""
        cells = "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in row)
        out.append(f"<tr{style}>{cells}</tr>")
    return "".join(out) + "</table>"


def overlay_png(curves: dict[str, dict[str, list]], labels: dict[str, str]) -> bytes | None:
    """One panel per metric, one line per run."""
    panels = {k: v for k, v in curves.items() if any(len(p) >= 2 for p in v.values())}
    if not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = 1 if len(panels) == 1 else 2
    rows = -(-len(panels) // cols)
    figure = Figure(figsize=(5.5 * cols, 2.8 * rows), dpi=80)
    FigureCanvasAgg(figure)
    for index, (key, by_run) in enumerate(panels.items(), start=1):
        axes = figure.add_subplot(rows, cols, index)
        for run_id, points in by_run.items():
            if points:
                steps, values = zip(*points, strict=True)
                axes.plot(steps, values, linewidth=1.2, label=labels.get(run_id, run_id[:8]))
        axes.set_title(key, fontsize=9)
        axes.legend(fontsize=7)
        axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _when(ts: float | None) -> str:
    return "" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def show_report(details: dict[str, Any], images: dict[str, bytes]) -> Report:
    """Render :func:`kernel_magics.core.compare.run_details` (``images``: path -> PNG bytes)."""
    run = details["run"]
    parts = [_STYLE, f"<h4>Run <code>{run['id']}</code> {html.escape(run['name'] or '')}</h4>"]
    duration = "" if run["duration"] is None else f"{run['duration']:.2f}s"
    info = [["experiment", run["experiment"]], ["status", run["status"]],
            ["source", run["source"]], ["started", _when(run["start_time"])],
            ["duration", duration], ["notebook", run["notebook_path"] or "(unknown)"]]  # fmt: skip
    version = details["notebook_version"]
    if version:
        info.append(["notebook version", f"{version['id']} ({version['blob_hash'][:12]})"])
    parts.append(_table(["", ""], info))
    if run["error"]:
        parts.append(f"<h5>Error</h5><pre>{html.escape(run['error'])}</pre>")
    parts.append("<h5>Params</h5>" + _table(["name", "value"], sorted(run["params"].items())))
    parts.append(
        "<h5>Metrics (latest)</h5>" + _table(["name", "value"], sorted(run["metrics"].items()))
    )
    curves = {k: {run["id"]: v} for k, v in details["curves"].items()}
    parts.append(_img(overlay_png(curves, {run["id"]: run["id"][:8]})))
    if run["tags"]:
        parts.append("<h5>Tags</h5>" + _table(["name", "value"], sorted(run["tags"].items())))
    if run["datasets"]:
        rows = [[d["name"], d["role"], d["hash"][:12], d["rows"]] for d in run["datasets"]]
        parts.append("<h5>Datasets</h5>" + _table(["name", "role", "hash", "rows"], rows))
    arts = [[a["path"], a["media_type"], a["size"]] for a in run["artifacts"]]
    parts.append("<h5>Artifacts</h5>" + _table(["path", "type", "bytes"], arts))
    parts += [
        f"<div><small>{html.escape(p)}</small><br/>{_img(png)}</div>" for p, png in images.items()
    ]
    env = details["environment"]
    if env:
        git = env.get("git") or {}
        parts.append("<h5>Environment</h5>" + _table(["", ""], [
            ["python", env.get("python")], ["platform", env.get("platform")],
            ["packages", len(env.get("packages", {}))],
            ["git", f"{git.get('commit', '')[:10]} {git.get('branch', '')}"
                    f"{' (dirty)' if git.get('dirty') else ''}" if git else "(not a git repo)"],
        ]))  # fmt: skip
    if details["cell_source"] is not None:
        parts.append(f"<h5>Cell</h5><pre>{html.escape(details['cell_source'])}</pre>")
    text = [f"Run {run['id']} ({run['status']}) in {run['experiment']}",
            f"  params:  {json.dumps(run['params'])}", f"  metrics: {json.dumps(run['metrics'])}",
            f"  artifacts: {', '.join(a['path'] for a in run['artifacts']) or '-'}"]  # fmt: skip
    if run["error"]:
        text.append("  error: " + run["error"].strip().splitlines()[-1])
    return Report(details, "".join(parts), "\n".join(text))


def compare_report(result: dict[str, Any]) -> Report:
    """Render :func:`kernel_magics.core.compare.compare_runs`."""
    labels = {r["id"]: r["id"][:8] for r in result["runs"]}
    head = [""] + [labels[r["id"]] for r in result["runs"]]
    parts = [_STYLE, "<h4>Why these runs differ</h4><ul>"]
    parts += [f"<li>{html.escape(s)}</li>" for s in result["summary"]] + ["</ul>"]
    for section in ("params", "metrics", "datasets"):
        rows = result[section]
        if rows:
            parts.append(
                f"<h5>{section.capitalize()}</h5>"
                + _table(
                    head, [[r["key"], *r["values"]] for r in rows], [r["differs"] for r in rows]
                )
            )
    parts.append(_img(overlay_png(result["curves"], labels)))
    python = result["python"]
    if result["packages"] or len(set(python)) > 1:
        rows = [["python", *python]] + [[r["key"], *r["values"]] for r in result["packages"]]
        parts.append("<h5>Environment differences</h5>" + _table(head, rows))
    for other, diff in result["code"].items():
        if diff:
            parts.append(
                f"<h5>Cell source: {labels[result['runs'][0]['id']]} → {other}</h5>"
                f"<pre>{html.escape(chr(10).join(diff))}</pre>"
            )
    for other, nb in result["notebook"].items():
        if nb:
            s = nb["summary"]
            parts.append(
                f"<h5>Notebook version {nb['from']} → {nb['to']} ({other})</h5>"
                f"<p>{s['changed']} changed, {s['added']} added, {s['removed']} removed</p>"
            )
            for cell in nb["cells"][:10]:
                lines = [f"{d['op']} {d['text']}" for d in cell["source_diff"] if d["op"] != " "]
                parts.append(f"<pre>{cell['status']}:\n{html.escape(chr(10).join(lines))}</pre>")
    text = "Why these runs differ:\n" + "\n".join(f"  - {s}" for s in result["summary"])
    return Report(result, "".join(parts), text)
