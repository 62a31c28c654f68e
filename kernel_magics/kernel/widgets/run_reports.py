"""``%mlops show`` and ``%mlops compare`` as notebook reports, with inline metric plots.

The run page is the shared :func:`~kernel_magics.core.views.runs.run_view`; the notebook adds
what a terminal cannot show: metric curves, the figures the run stored, the environment and the
tracked cell's source.
"""

from __future__ import annotations

import html
import io
import time
from typing import Any

from ...core.views.formatting import short_id
from ...core.views.table import Page, Table, key_value, table
from .report import STYLE, Report, img, page_html, page_text, table_html


def _compared(title: str, head: list[str], rows: list[list[Any]], differs: list[bool]) -> str:
    return table_html(table(head, rows, title), highlight=differs)


#: Inches of figure width one legend entry takes (a short run id at 7 pt and its line).
_LEGEND_ENTRY_WIDTH = 1.3
#: Inches of figure height one row of legend entries takes at 7 pt.
_LEGEND_ROW_HEIGHT = 0.17


def _run_colours(run_ids: list[str]) -> dict[str, Any]:
    """One colour per run, the same in every panel (a run missing from one keeps its colour)."""
    from matplotlib import colormaps

    if len(run_ids) <= 20:  # a qualitative palette: its N listed colours, in order
        size = 10 if len(run_ids) <= 10 else 20
        listed = colormaps[f"tab{size}"]
        palette = [listed(i) for i in range(size)]
    else:  # more runs than a qualitative palette has colours: spread them along one map
        turbo = colormaps["turbo"]
        palette = [turbo(0.05 + 0.9 * i / (len(run_ids) - 1)) for i in range(len(run_ids))]
    return {run_id: palette[i % len(palette)] for i, run_id in enumerate(run_ids)}


def overlay_png(curves: dict[str, dict[str, list]], labels: dict[str, str]) -> bytes | None:
    """One panel per metric, one line per run, and one legend for all panels below them.

    The figure grows with the legend (its rows are laid out by matplotlib's constrained
    layout), so 50 runs get a taller figure instead of legends spilling over the panels.
    """
    panels = {k: v for k, v in curves.items() if any(len(p) >= 2 for p in v.values())}
    if not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    runs = list(dict.fromkeys(run_id for by_run in panels.values() for run_id in by_run))
    colours = _run_colours(runs)
    cols = 1 if len(panels) == 1 else 2
    rows = -(-len(panels) // cols)
    width = 5.5 * cols
    legend_cols = max(1, min(len(runs), int(width // _LEGEND_ENTRY_WIDTH)))
    legend_rows = -(-len(runs) // legend_cols) if len(runs) > 1 else 0
    height = 2.8 * rows + _LEGEND_ROW_HEIGHT * legend_rows + (0.2 if legend_rows else 0)
    figure = Figure(figsize=(width, height), dpi=80, layout="constrained")
    FigureCanvasAgg(figure)
    for index, (key, by_run) in enumerate(panels.items(), start=1):
        axes = figure.add_subplot(rows, cols, index)
        drawn = [(run_id, points) for run_id, points in by_run.items() if points]
        # One collection per panel, not a Line2D per run: 50 runs draw ~1.3x faster.
        lines = LineCollection([points for _, points in drawn], linewidths=1.2,
                               colors=[colours[run_id] for run_id, _ in drawn])  # fmt: skip
        axes.add_collection(lines)
        axes.autoscale_view()
        axes.set_title(key, fontsize=9)
        axes.grid(alpha=0.3)
    if legend_rows:
        handles = [Line2D([], [], linewidth=1.2, color=colours[run_id]) for run_id in runs]
        names = [labels.get(run_id, run_id[:8]) for run_id in runs]
        figure.legend(handles, names, loc="outside lower center", ncols=legend_cols,
                      fontsize=7, frameon=False)  # fmt: skip
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _environment(env: dict[str, Any]) -> Table:
    git = env.get("git") or {}
    where = "(not a git repo)"
    if git:
        dirty = " (dirty)" if git.get("dirty") else ""
        where = f"{git.get('commit', '')[:10]} {git.get('branch', '')}{dirty}"
    values = {"python": env.get("python"), "platform": env.get("platform"),
              "packages": len(env.get("packages", {})), "git": where}  # fmt: skip
    return key_value("Environment", values)


def show_report(details: dict[str, Any], view: Page, images: dict[str, bytes]) -> Report:
    """Render one run for ``%mlops show``.

    Parameters
    ----------
    details : dict
        :func:`kernel_magics.core.compare.run_details` (the report's ``data``).
    view : Page
        :func:`kernel_magics.core.views.runs.run_view` of the same run.
    images : dict
        Artifact path -> PNG bytes of the figures to show inline.
    """
    run = details["run"]
    version = details["notebook_version"]
    if version:
        view.fields.append(("Notebook version", f"{version['id']} ({version['blob_hash'][:12]})"))
    curves = {k: {run["id"]: v} for k, v in details["curves"].items()}
    parts = [page_html(view), img(overlay_png(curves, {run["id"]: short_id(run["id"])}))]
    parts += [
        f"<div><small>{html.escape(p)}</small><br/>{img(png)}</div>" for p, png in images.items()
    ]
    if details["environment"]:
        parts.append(table_html(_environment(details["environment"])))
    if details["cell_source"] is not None:
        parts.append(f"<h5>Cell</h5><pre>{html.escape(details['cell_source'])}</pre>")
    return Report(details, "".join(parts), page_text(view))


#: MIME type of the request that opens a comparison in JupyterLab's Compare view
#: (``COMPARE_MIME_TYPE`` in ``extension/src/compare/plugin.ts`` says the same).
COMPARE_MIME_TYPE = "application/vnd.jupyter-mlops.compare+json"


class CompareRequest:
    """A display output asking JupyterLab to open the Compare view of some runs.

    The side panel's renderer for :data:`COMPARE_MIME_TYPE` opens the comparison when the
    output is fresh (``created_at`` within seconds) and shows a button to reopen it; frontends
    without the extension show the text instead.

    Parameters
    ----------
    run_ids : list of str
        Full run ids, the baseline first.
    """

    def __init__(self, run_ids: list[str]):
        self.run_ids = list(run_ids)
        self.created_at = time.time()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        text = f"Compare view of {len(self.run_ids)} runs (JupyterLab's MLOps panel)"
        data = {"run_ids": self.run_ids, "created_at": self.created_at}
        return {COMPARE_MIME_TYPE: data, "text/plain": text}


def compare_report(result: dict[str, Any]) -> Report:
    """Render :func:`kernel_magics.core.compare.compare_runs`."""
    labels = {r["id"]: short_id(r["id"]) for r in result["runs"]}
    head = [""] + [labels[r["id"]] for r in result["runs"]]
    parts = [STYLE, "<h4>Why these runs differ</h4><ul>"]
    parts += [f"<li>{html.escape(s)}</li>" for s in result["summary"]] + ["</ul>"]
    for section in ("params", "metrics", "datasets"):
        rows = result[section]
        if rows:
            cells = [[r["key"], *r["values"]] for r in rows]
            parts.append(_compared(section.capitalize(), head, cells, [r["differs"] for r in rows]))
    parts.append(img(overlay_png(result["curves"], labels)))
    python = result["python"]
    if result["packages"] or len(set(python)) > 1:
        rows = [["python", *python]] + [[r["key"], *r["values"]] for r in result["packages"]]
        parts.append(_compared("Environment differences", head, rows, [True] * len(rows)))
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
