"""How values look in tables: times, durations, numbers, short ids, truncated text.

One formatter per kind of value, shared by the CLI (rich) and the magics (HTML), so a time or a
duration reads the same in a terminal and in a notebook.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: A run id is shown by its first eight characters (enough to be unique, and accepted back by
#: every command that takes a run id).
SHORT_ID = 8


def when(ts: float | None, timezone: str | None = None) -> str:
    """A human timestamp (empty for None).

    Parameters
    ----------
    ts : float or None
        Seconds since the epoch.
    timezone : str, optional
        An IANA timezone: the time is shown there, to the minute, with the zone's name
        (schedules read in their own timezone). Without it, local time to the second.
    """
    if ts is None:
        return ""
    if timezone is None:
        return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
    from zoneinfo import ZoneInfo

    return fire_time(dt.datetime.fromtimestamp(ts, ZoneInfo(timezone)))


def fire_time(moment: dt.datetime, weekday: bool = False) -> str:
    """A timezone-aware time to the minute with its zone (``2026-12-02 03:00 UTC``)."""
    return moment.strftime("%Y-%m-%d %H:%M %Z (%a)" if weekday else "%Y-%m-%d %H:%M %Z")


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


def value(item: Any) -> str:
    """A cell value: floats to four significant digits, None and NaN as empty."""
    if item is None or item != item:  # NaN is the only value unequal to itself
        return ""
    if isinstance(item, float):
        return f"{item:.4g}"
    return str(item)


def short_id(run_id: str | None) -> str:
    """The first :data:`SHORT_ID` characters of a run id (empty for None)."""
    return (run_id or "")[:SHORT_ID]


def short(text: str | None, width: int = 70) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"
