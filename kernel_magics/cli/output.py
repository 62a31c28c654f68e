"""Rendering helpers shared by the CLI commands: rich tables, times, JSON output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any


def console():
    """A rich console writing to stdout."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def when(ts: float | None) -> str:
    """A local, human timestamp (empty for None)."""
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    """``1.2s``, ``3m04s``, ``2h05m`` (empty for None)."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


NO_WRAP = frozenset({"Run", "Status", "Started", "Duration", "Created", "Last run"})

STATUS_STYLE = {"running": "cyan", "finished": "green", "failed": "red", "crashed": "magenta",
                "killed": "yellow", "missed": "yellow"}  # fmt: skip


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a rich table; a ``status`` column is coloured."""
    from rich.table import Table

    out = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        # Ids, statuses and times stay on one line; free text folds when the terminal is narrow.
        out.add_column(col, overflow="fold", no_wrap=col in NO_WRAP)
    status_idx = [i for i, c in enumerate(columns) if c.lower() == "status"]
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        for i in status_idx:
            style = STATUS_STYLE.get(cells[i])
            if style:
                cells[i] = f"[{style}]{cells[i]}[/{style}]"
        out.add_row(*cells)
    console().print(out)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (for scripts: every listing has ``--json``)."""
    print(json.dumps(data, indent=2, default=str))
