"""``%mlops report``: a self-contained report of runs (or a leaderboard) written to a file.

The same document ``mlops report`` writes (:mod:`kernel_magics.core.reports`); the magic
returns a :class:`~kernel_magics.kernel.widgets.report.Report` naming the file it wrote.
"""

from __future__ import annotations

import html
import os
from typing import Any

from ...errors import ValidationError
from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import Report


def report_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops report``."""
    p = MagicArgumentParser(
        prog="%mlops report",
        description="Write one self-contained HTML (or Markdown) report of runs, or a leaderboard.",
    )
    p.add_argument(
        "runs", nargs="*", help="Run ids, prefixes or 'last' (the first is the baseline)."
    )
    p.add_argument("-o", "--output", required=True, help="The file to write (.html or .md).")
    p.add_argument("--format", choices=["html", "md"], help="html or md (default: from -o).")
    p.add_argument("--experiment", help="A leaderboard of this experiment instead of runs.")
    p.add_argument("--top", type=int, default=10, help="How many runs the leaderboard keeps.")
    p.add_argument("--by", help="The leaderboard's metric: metrics.auc or 'metrics.loss ASC'.")
    p.add_argument("--title", help="The report's title.")
    return p


@parsed_with(report_parser)
def handle_report(magics: Any, ns: Any) -> Report:
    """Write the report; return a :class:`Report` whose ``.data`` holds the files written."""
    from ...core.reports import leaderboard_report, run_report, write_document
    from ...core.reports.render import format_for
    from ...core.store import open_store

    format_for(ns.output, ns.format)
    if ns.experiment is not None:
        if ns.runs or not ns.by:
            raise ValidationError(
                "A leaderboard takes --experiment NAME --by METRIC and no runs, e.g. "
                "%mlops report --experiment churn --by metrics.auc -o leaderboard.html."
            )
        doc = leaderboard_report(open_store(), ns.experiment, ns.by, top=ns.top, title=ns.title)
    elif not ns.runs:
        raise ValidationError("Name the runs: %mlops report RUN [RUN ...] -o report.html.")
    else:
        doc = run_report(open_store(), list(ns.runs), title=ns.title)
    written = [str(p) for p in write_document(doc, ns.output, ns.format)]
    # A relative link opens the file next to the notebook (JupyterLab serves it under /files).
    link = html.escape(os.path.relpath(written[0]) if not os.path.isabs(ns.output) else ns.output)
    text = f"Wrote {written[0]}" + (f" and {len(written) - 1} chart files" if written[1:] else "")
    anchor = f"<a href='{link}' target='_blank'>{html.escape(doc.title)}</a>"
    return Report(
        {"files": written, "title": doc.title}, f"<p>{html.escape(text)}: {anchor}</p>", text + "."
    )
