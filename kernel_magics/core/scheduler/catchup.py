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

POLICIES = ("latest", "all", "none")


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
