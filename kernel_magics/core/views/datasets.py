"""Datasets as tables: the dataset list, a dataset's versions, and one version in full."""

from __future__ import annotations

from typing import Any

from .formatting import short_id, when
from .table import Column, Page, Table, table


def size(count: int | None) -> str:
    """Bytes for people: ``512 B``, ``1.5 MB``, ``2.0 GB`` (powers of 1000)."""
    if count is None:
        return ""
    amount = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if amount < 1000 or unit == "TB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{count} B"  # pragma: no cover - the loop always returns


def _rows(record: Any) -> str:
    return "" if record.rows is None else f"{record.rows:,}"


def datasets_table(latest: list[tuple[Any, int, int]]) -> Table:
    """Each dataset: latest version, kind, rows, size, versions and bytes stored for them all.

    Parameters
    ----------
    latest : list of (DatasetVersionRecord, int, int)
        The latest version, the version count and the stored bytes of each dataset.
    """
    rows = [
        [r.dataset, r.ref, r.kind, _rows(r), size(r.size), str(count), size(stored),
         when(r.created_at)]
        for r, count, stored in latest
    ]  # fmt: skip
    return table(
        [Column("Name", priority=100), Column("Latest", "id", 90), Column("Kind", priority=70),
         Column("Rows", "number", 60), Column("Size", "number", 65),
         Column("Versions", "number", 80), Column("Stored", "number", 75),
         Column("Updated", "time", 50)],
        rows, "Datasets",
        "" if latest else "No datasets yet: mlops.log_dataset(path_or_frame, name=...) in a run.",
    )  # fmt: skip


def versions_table(records: list[Any]) -> Table:
    """A dataset's versions, newest first: number, hash, kind, rows, size, new bytes stored."""
    rows = [
        [r.ref, r.hash[:12], r.kind, _rows(r), size(r.size), size(r.stored_bytes),
         when(r.created_at)]
        for r in reversed(records)
    ]  # fmt: skip
    return table(
        [Column("Version", "id", 100), Column("Hash", "id", 80), Column("Kind", priority=70),
         Column("Rows", "number", 60), Column("Size", "number", 65),
         Column("Stored", "number", 75), Column("Created", "time", 50)],
        rows, f"Versions of {records[0].dataset}" if records else "Versions",
    )  # fmt: skip


def version_page(
    record: Any, files: list[Any], runs: list[dict[str, str]], checks: Any = None
) -> Page:
    """One version: what it is, where it came from, its schema, files and runs.

    Parameters
    ----------
    record : DatasetVersionRecord
    files : list of ManifestFile
        The stored files (empty for a reference).
    runs : list of dict
        ``{"run_id", "role"}`` of the runs that read or wrote it.
    checks : CheckResult, optional
        Its latest quality check result (:mod:`.datasets_diff` builds the table).
    """
    shared = ""
    if record.stored and record.content_bytes:
        reused = max(record.content_bytes - record.stored_bytes, 0)
        shared = f"{size(record.stored_bytes)} new, {size(reused)} shared with earlier versions"
    fields = [
        ("Version", record.ref), ("Hash", record.hash), ("Kind", record.kind),
        ("Rows", _rows(record)), ("Size", size(record.size)), ("Stored", shared),
        ("Files", "" if record.files is None else str(record.files)),
        ("Source", record.source or ""), ("Created", when(record.created_at)),
    ]  # fmt: skip
    warnings = []
    if not record.stored:
        warnings.append(
            "Recorded by reference only: its content is not in the store, so it cannot be "
            "loaded or restored."
        )
    tables = []
    if record.schema:
        tables.append(table(["Column", "Type"], [(c["name"], c["dtype"]) for c in record.schema],
                            "Schema"))  # fmt: skip
    if files and record.kind == "folder":
        shown = files[:50]
        note = f"{len(files) - len(shown)} more file(s) not shown." if len(files) > 50 else ""
        tables.append(table(
            [Column("Path", priority=100), Column("Size", "number", 60), Column("Hash", "id", 50)],
            [(f.path, size(f.size), f.hash[:12]) for f in shown], "Files", note,
        ))  # fmt: skip
    if checks is not None:
        from .datasets_diff import checks_table

        tables.append(checks_table(checks))
    if runs:
        used = [(short_id(r["run_id"]), r["role"]) for r in runs]
        tables.append(table([Column("Run", "id", 100), "Role"], used, "Runs"))
    return Page(
        title=f"Dataset {record.ref}",
        fields=[(label, text) for label, text in fields if text],
        tables=tables,
        warnings=warnings,
    )
