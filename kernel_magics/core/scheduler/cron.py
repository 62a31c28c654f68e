"""Cron expressions in a timezone: validation and DST-correct fire times.

Fire times are enumerated on the *wall clock* of the schedule's timezone (croniter on naive
local datetimes, which is pure calendar arithmetic) and then mapped to UTC instants:

- a wall time that does not exist (the hour skipped when clocks go forward) fires at the
  instant the clocks jump, so a daily ``30 2 * * *`` job still runs once that day;
- a wall time that occurs twice (the hour repeated when clocks go back) fires once, at its
  first occurrence, unless the hour field is ``*``: such jobs follow real time and fire in
  both copies of the hour (the rule Vixie cron uses);
- several wall times that map to the same instant fire once.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ...errors import InvalidScheduleError

UTC = dt.timezone.utc
# Safety cap on how many fire times one enumeration returns (a minutely cron over a year).
MAX_FIRE_TIMES = 100_000
DST_SLACK_S = 3 * 3600.0
ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def validate_cron(expression: str) -> str:
    """Check a five-field cron expression (or an ``@daily``-style alias); return it stripped.

    Raises
    ------
    InvalidScheduleError
        When the expression has the wrong number of fields or a value out of range.
    """
    expr = " ".join(str(expression or "").split())
    if expr.lower() in ALIASES:
        return expr.lower()
    fields = expr.split(" ") if expr else []
    if len(fields) != 5:
        raise InvalidScheduleError(
            f"Invalid cron expression {expression!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week), e.g. '0 3 * * *' for 03:00 every "
            f"day, or one of {', '.join(ALIASES)}."
        )
    try:
        _check_fields(expr)
    except (ValueError, KeyError) as exc:
        raise InvalidScheduleError(
            f"Invalid cron expression {expression!r}: {exc}. Fields are minute (0-59), hour "
            "(0-23), day of month (1-31), month (1-12), day of week (0-6, 0 = Sunday)."
        ) from None
    return expr


def local_timezone_name() -> str:
    """Return the machine's IANA timezone (``TZ``, ``/etc/timezone``, ``/etc/localtime``)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        except OSError:
            link = Path("/etc/localtime")
            if link.is_symlink():
                parts = str(link.resolve()).split("zoneinfo/", 1)
                name = parts[1] if len(parts) == 2 else ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


@functools.lru_cache(maxsize=1024)
def _check_fields(expr: str) -> None:
    """Let croniter parse ``expr``; raises on a bad field.

    Cached: listing schedules validates every schedule's expression, and croniter's parsing
    is the costly part of it (exceptions are not cached).
    """
    from croniter import croniter

    croniter(expr, dt.datetime(2000, 1, 1)).get_next(dt.datetime)


def validate_timezone(name: str | None) -> ZoneInfo:
    """Return the ``ZoneInfo`` for an IANA name (the machine's zone when None).

    Raises
    ------
    InvalidScheduleError
        When the name is not an IANA timezone; the message suggests close matches.
    """
    name = local_timezone_name() if name is None else str(name).strip()
    try:
        if not name or name.startswith(("/", ".")):
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib

        close = difflib.get_close_matches(name, sorted(available_timezones()), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise InvalidScheduleError(
            f"Unknown timezone {name!r}: use an IANA name such as 'Europe/Berlin', "
            f"'America/New_York' or 'UTC'.{hint}"
        ) from None


def _near_transition(tz: ZoneInfo, wall: dt.datetime) -> bool:
    """Whether the UTC offset changes within 3 hours either side of a wall time."""
    window = dt.timedelta(hours=3)
    before = (wall - window).replace(tzinfo=tz).utcoffset()
    return before != (wall + window).replace(tzinfo=tz).utcoffset()


def _hour_is_wildcard(expression: str) -> bool:
    if expression.startswith("@"):
        return expression == "@hourly"
    hour = expression.split(" ")[1]
    return hour == "*" or hour.startswith("*/")


def _jump_instant(tz: ZoneInfo, wall: dt.datetime) -> float:
    """Return the UTC instant at which the clocks jumped over the non-existent ``wall`` time."""
    lo = wall.replace(tzinfo=tz, fold=1).timestamp()  # offset after the jump: earlier instant
    hi = wall.replace(tzinfo=tz, fold=0).timestamp()  # offset before the jump: later instant
    lo, hi = min(lo, hi), max(lo, hi)
    after = dt.datetime.fromtimestamp(hi, tz).utcoffset()
    while hi - lo > 1:  # bisect to the second where the offset changes
        mid = (lo + hi) / 2
        if dt.datetime.fromtimestamp(mid, tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return float(int(hi))


def _instants(tz: ZoneInfo, wall: dt.datetime, both_folds: bool) -> list[float]:
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first.timestamp()]
    # Either repeated (clocks went back) or skipped (clocks went forward).
    roundtrip = dt.datetime.fromtimestamp(first.timestamp(), tz).replace(tzinfo=None)
    if roundtrip != wall:  # skipped: this wall time never shows on a clock
        return [_jump_instant(tz, wall)]
    times = [first.timestamp()]
    if both_folds:
        times.append(second.timestamp())
    return times


def iter_fire_times(expression: str, timezone: str, after: float) -> Iterator[float]:
    """Yield the UTC epoch fire times strictly after ``after``, in increasing order.

    Parameters
    ----------
    expression : str
        A validated cron expression.
    timezone : str
        IANA timezone name whose wall clock the expression reads.
    after : float
        UTC epoch seconds; only later fire times are produced.
    """
    from croniter import croniter

    tz = validate_timezone(timezone)
    expression = validate_cron(expression)
    both = _hour_is_wildcard(expression)
    begin = dt.datetime.fromtimestamp(after, tz).replace(tzinfo=None, second=0, microsecond=0)
    # Near a transition the wall clock of ``after`` can be "ahead" of a fire time still to
    # come (clocks went back), so start earlier there; elsewhere start right at ``after``.
    start = begin - dt.timedelta(hours=3) if _near_transition(tz, begin) else begin
    it = croniter(expression, start)
    last = after
    pending: list[float] = []
    while True:
        wall = it.get_next(dt.datetime)
        instants = _instants(tz, wall, both)
        pending.extend(instants)
        pending.sort()
        # A later wall time can only map to an earlier instant across a transition, and by
        # less than the size of the jump (at most 2 h anywhere): until then, what is at or
        # before the newest instant is final.
        slack = DST_SLACK_S if _near_transition(tz, wall) else 0.0
        horizon = min(instants) - slack
        while pending and pending[0] <= horizon:
            instant = pending.pop(0)
            if instant > last:
                last = instant
                yield instant


def fire_times(expression: str, timezone: str, after: float, until: float) -> list[float]:
    """Return the UTC fire times in ``(after, until]`` (at most :data:`MAX_FIRE_TIMES`)."""
    out: list[float] = []
    for instant in iter_fire_times(expression, timezone, after):
        if instant > until or len(out) >= MAX_FIRE_TIMES:
            break
        out.append(instant)
    return out


def next_fire_times(expression: str, timezone: str, count: int = 3, after: float | None = None):
    """Return the next ``count`` fire times as timezone-aware datetimes in the schedule's zone."""
    import time

    tz = validate_timezone(timezone)
    it = iter_fire_times(expression, timezone, time.time() if after is None else after)
    return [dt.datetime.fromtimestamp(next(it), tz) for _ in range(count)]
