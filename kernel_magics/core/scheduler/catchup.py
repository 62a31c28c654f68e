"""Catch-up after downtime: which missed fire times still run.

A fire time is *on time* while a scheduler notices it within ``grace`` seconds; later than
that it was missed (no scheduler was running). The schedule's policy decides:

- ``latest``: the most recent missed slot runs once, the older ones are recorded ``missed``;
- ``all``: every missed slot runs, oldest first;
- ``none``: every missed slot is recorded ``missed`` and none runs.

Missed slots are always written to the history, never skipped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...errors import InvalidScheduleError
from .cron import fire_times

if TYPE_CHECKING:
    from ..store.schedules import ScheduleRecord
    from ..store.slots import SlotRepository

POLICIES = ("latest", "all", "none")


def check_policy(catchup: str) -> str:
    """Return the catch-up policy name, lower-cased.

    Raises
    ------
    InvalidScheduleError
        When it is not ``latest``, ``all`` or ``none``.
    """
    value = str(catchup).lower()
    if value not in POLICIES:
        raise InvalidScheduleError(
            f"Unknown catch-up policy {catchup!r}; use latest (run the most recent missed slot "
            "once), all (run every missed slot) or none (record missed slots, run none)."
        )
    return value


def plan(times: Sequence[float], now: float, grace: float, policy: str) -> list[tuple[float, bool]]:
    """Decide for each fire time whether it runs.

    Parameters
    ----------
    times : sequence of float
        Fire times (UTC epoch seconds, increasing) not yet turned into slots, all ``<= now``.
    now : float
        The scheduler's current time.
    grace : float
        Seconds after its fire time during which a slot still counts as on time.
    policy : str
        ``latest``, ``all`` or ``none``.

    Returns
    -------
    list of (float, bool)
        Each fire time with True when it should run, False when it is recorded missed.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown catch-up policy {policy!r}")
    overdue = [t for t in times if now - t > grace]
    runs_overdue = {"all": set(overdue), "latest": set(overdue[-1:]), "none": set()}[policy]
    return [(t, now - t <= grace or t in runs_overdue) for t in times]


def materialize(slots: SlotRepository, schedule: ScheduleRecord, now: float, grace: float) -> int:
    """Create the slots of every fire time of ``schedule`` up to ``now``; return how many.

    Fire times more than ``grace`` seconds old were missed while no scheduler ran; the
    catch-up policy (:func:`plan`) decides which of those still run. The others are recorded
    ``missed``, never dropped.
    """
    times = fire_times(schedule.cron, schedule.timezone, slots.cursor(schedule), now)
    if not times:
        return 0
    return slots.add_cron(schedule, plan(times, now, grace, schedule.catchup), now, grace)
