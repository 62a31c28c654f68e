"""A dataset diff and a version's quality checks as tables (``mlops datasets diff/check``).

Built once here; the CLI prints them with rich, ``%mlops datasets diff`` as HTML, and
``mlops datasets show`` adds :func:`checks_table` to its page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formatting import value, when
from .table import Column, Page, Table, table

#: How a check result reads (the renderers colour these like statuses).
CHECK_STATUS = {"passed": "ok", "warned": "warn", "failed": "FAIL"}


def _count(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def _summary(summary: dict[str, Any], kind: str) -> str:
    nulls = summary.get("null_share")
    parts = [] if not nulls else [f"{nulls:.1%} null"]
    if kind == "numeric":
        if summary.get("mean") is not None:
            parts.insert(0, f"mean {value(summary['mean'])}")
            parts.append(f"[{value(summary['min'])}, {value(summary['max'])}]")
    else:
        parts.insert(0, f"{summary.get('distinct', 0)} values")
        if summary.get("top") is not None:
            parts.append(f"top {summary['top']!r}")
    return ", ".join(parts)


def _sample_table(title: str, rows: Sequence[dict[str, Any]], note: str = "") -> Table:
    columns = list(rows[0]) if rows else []
    return table(columns, [[r.get(c) for c in columns] for r in rows], title, note)


def check_status(result: Any) -> str:
    """``ok``, ``warn`` or ``FAIL`` for a :class:`CheckResult` (empty for None)."""
    return "" if result is None else CHECK_STATUS[result.status]


def checks_table(result: Any, title: str = "Quality checks") -> Table:
    """One version's check result: a row per failure, or a note that every check passed.

    Parameters
    ----------
    result : CheckResult
        From :meth:`~kernel_magics.core.store.dataset_checks.DatasetCheckRepository.results`.
    """
    rows = [[f["check"], f["column"] or "", f["message"]] for f in result.failures]
    note = (
        f"Every {result.kind} check passed ({when(result.checked_at)})."
        if result.passed
        else f"{len(rows)} check(s) failed: a run logging such a version "
        + (
            "stops before training (on_fail=fail)."
            if result.on_fail == "fail"
            else "warns and goes on (on_fail=warn)."
        )
    )
    return table(
        [Column("Check", priority=80), Column("Column", priority=90),
         Column("Problem", priority=100)],
        rows, title, note,
    )  # fmt: skip


def diff_page(diff: Any) -> Page:
    """Everything :func:`~kernel_magics.core.data.diff.diff_versions` found, as one page."""
    rows_a, rows_b = diff.rows
    row_text = f"{_count(rows_a)} -> {_count(rows_b)}" if rows_a is not None else ""
    changes = diff.row_changes
    fields = [("Content", "identical" if diff.identical else "changed"), ("Rows", row_text)]
    if changes is not None:
        fields.append(("Rows added", f"{changes.added:,}"))
        fields.append(("Rows removed", f"{changes.removed:,}"))
        fields.append(("Rows compared on", ", ".join(changes.key_columns)))
    if diff.columns:
        drifted = diff.drifted_columns
        fields.append(("Drifted columns", ", ".join(drifted) if drifted else "none"))
    checks = [(side, diff.checks.get(key)) for side, key in ((diff.a, "a"), (diff.b, "b"))]
    quality = [f"{ref} {result.status}" for ref, result in checks if result is not None]
    if quality:
        fields.append(("Quality", ", ".join(quality)))
    tables = []
    if diff.schema:
        tables.append(table(
            [Column("Column", priority=100), Column("Change", "status", 90), "A type", "B type"],
            [[s.column, s.change, s.a_dtype, s.b_dtype] for s in diff.schema], "Schema changes",
        ))  # fmt: skip
    if diff.columns:
        tables.append(table(
            [Column("Column", priority=100), Column("Kind", priority=40),
             Column(diff.a, priority=60), Column(diff.b, priority=60),
             Column("Test", priority=50), Column("Score", "number", 70),
             Column("Drift", "status", 95)],
            [[c.column, c.kind, _summary(c.a, c.kind), _summary(c.b, c.kind),
              c.drift.method if c.drift else "", c.drift.score if c.drift else None,
              c.drift.status if c.drift else ""] for c in diff.columns],
            "Columns",
        ))  # fmt: skip
    if changes is not None and changes.added_sample:
        more = changes.added - len(changes.added_sample)
        tables.append(_sample_table("Rows added", changes.added_sample,
                                    f"and {more:,} more" if more > 0 else ""))  # fmt: skip
    if changes is not None and changes.removed_sample:
        more = changes.removed - len(changes.removed_sample)
        tables.append(_sample_table("Rows removed", changes.removed_sample,
                                    f"and {more:,} more" if more > 0 else ""))  # fmt: skip
    if diff.files:
        tables.append(table(
            [Column("Path", priority=100), Column("Change", "status", 90),
             Column("A size", "number", 50), Column("B size", "number", 50)],
            [[f.path, f.change, _count(f.a_size), _count(f.b_size)] for f in diff.files],
            "Files",
        ))  # fmt: skip
    for ref, result in checks:
        if result is not None and not result.passed:
            tables.append(checks_table(result, f"Quality checks of {ref}"))
    return Page(
        title=f"Dataset diff {diff.a} -> {diff.b}",
        fields=[(label, text) for label, text in fields if text],
        tables=tables,
        warnings=list(diff.notes),
    )
