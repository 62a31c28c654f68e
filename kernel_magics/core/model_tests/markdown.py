"""A Markdown summary of a report, for a pull-request comment (GitHub-flavoured tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .report import FAIL, PASS, SKIP

if TYPE_CHECKING:
    from .report import ModelTestReport

MARKS = {PASS: "✅ pass", FAIL: "❌ FAIL", SKIP: "⏭️ skip"}


def _cell(text: str) -> str:
    # a pipe ends a cell and a newline ends the row: keep each value in its cell
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_to_markdown(report: ModelTestReport) -> str:
    """Heading with the verdict and counts, then one table row per check."""
    counts = report.counts()
    verdict = "✅ passed" if report.passed else "❌ failed"
    lines = [
        f"### Model tests {verdict}: `{report.ref}`",
        "",
        f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped "
        f"in {report.duration_s:.2f} s.",
        "",
        "| Check | Kind | Result | Measured | Expected | Detail |",
        "|---|---|---|---|---|---|",
    ]
    for c in report.checks:
        cells = [c.name, c.kind, MARKS[c.outcome], c.measured, c.expected, c.detail]
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    if not report.checks:
        lines.append("| (no checks ran) | | ❌ FAIL | | | |")
    return "\n".join(lines) + "\n"
