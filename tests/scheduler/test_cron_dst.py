"""Cron validation and fire times across daylight-saving transitions."""

from __future__ import annotations

import pytest
from sched_helpers import RecordingExecutor, at, local

from kernel_magics.core.scheduler import api
from kernel_magics.core.scheduler.cron import fire_times, validate_cron, validate_timezone
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.errors import InvalidScheduleError


def fires(cron, tz, start, hours):
    begin = at(start, tz)
    return [local(t, tz) for t in fire_times(cron, tz, begin, begin + hours * 3600)]


@pytest.mark.parametrize(
    "expr, message",
    [
        ("0 3 * *", "expected 5 fields"),
        ("0 3 * * * *", "expected 5 fields"),
        ("61 * * * *", "out of range"),
        ("0 25 * * *", "out of range"),
        ("0 0 31 2 *", "failed to find next date"),
        ("every day", "expected 5 fields"),
    ],
)
def test_bad_cron_is_named(expr, message):
    with pytest.raises(InvalidScheduleError, match=message) as info:
        validate_cron(expr)
    assert repr(expr) in str(info.value)


def test_good_cron_and_aliases():
    assert validate_cron(" 0  3 * * 1-5 ") == "0 3 * * 1-5"
    assert validate_cron("@Daily") == "@daily"


def test_timezone_validation_suggests():
    assert validate_timezone("America/New_York").key == "America/New_York"
    with pytest.raises(InvalidScheduleError, match="Did you mean America/New_York"):
        validate_timezone("America/NewYork")
    with pytest.raises(InvalidScheduleError, match="Unknown timezone"):
        validate_timezone("/etc/passwd")


def test_berlin_spring_forward_daily_job_runs_at_the_jump():
    # 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist that day
    assert fires("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00", 72) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_berlin_spring_forward_frequent_job_has_no_duplicate():
    # */15: the four skipped wall times collapse into the jump instant, which is also 03:00
    got = fires("*/15 * * * *", "Europe/Berlin", "2026-03-29T01:30", 1)
    assert got == [
        "2026-03-29T01:45:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:15:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]
    assert len(set(got)) == len(got)


def test_berlin_fall_back_daily_job_runs_once():
    # 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; a daily job runs once
    assert fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00", 48) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_berlin_fall_back_hourly_job_follows_real_time():
    # The hour field is '*': both copies of the repeated hour fire (no 2-hour gap)
    assert fires("0 * * * *", "Europe/Berlin", "2026-10-25T00:30", 4) == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]


def test_new_york_spring_forward_and_fall_back():
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST
    assert fires("30 2 * * *", "America/New_York", "2026-03-07T12:00", 48) == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]
    assert fires("30 1 * * *", "America/New_York", "2026-10-31T12:00", 48) == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]
    assert fires("*/30 * * * *", "America/New_York", "2026-11-01T00:45", 3) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:00:00-05:00",
        "2026-11-01T02:30:00-05:00",
    ]


def test_enumeration_resumes_mid_transition_without_repeats():
    # Resuming inside the repeated hour must neither repeat nor skip a fire time
    tz = "America/New_York"
    whole = fire_times("*/30 * * * *", tz, at("2026-11-01T00:00", tz), at("2026-11-01T04:00", tz))
    for cut in whole:
        first = [t for t in whole if t <= cut]
        assert first + fire_times("*/30 * * * *", tz, cut, whole[-1]) == whole


@pytest.mark.parametrize(
    "tz, day",
    [
        ("Europe/Berlin", "2026-03-29"),
        ("Europe/Berlin", "2026-10-25"),
        ("America/New_York", "2026-03-08"),
        ("America/New_York", "2026-11-01"),
    ],
)
def test_scheduler_across_transition_no_duplicate_no_gap(store, notebook, tz, day):
    # A scheduler ticking every 10 minutes through the transition day, for a daily 02:30 job
    # and a 30-minute job: each fire time is one slot, run once.
    from kernel_magics.core.scheduler.clock import ManualClock

    clock = ManualClock(at(f"{day}T00:00", tz) - 43200)
    api.schedule(
        notebook,
        api.ScheduleOptions(cron="30 2 * * *", timezone=tz),
        name="daily",
        store=store,
        now=clock.now(),
    )
    api.schedule(
        notebook,
        api.ScheduleOptions(cron="*/30 * * * *", timezone=tz),
        name="halfhourly",
        store=store,
        now=clock.now(),
    )
    ex = RecordingExecutor()
    s = Scheduler(store, executor=ex, clock=clock, poll_interval=60, lease=300, grace=120)
    for _ in range(40 * 60 // 10):
        clock.advance(600)
        s.tick()
        s.wait_idle(30)
    daily = [t for name, t, _ in ex.fired if name == "daily"]
    half = [t for name, t, _ in ex.fired if name == "halfhourly"]
    assert len(daily) == 2 and len(set(daily)) == 2  # one per calendar day, DST day included
    assert len(half) == len(set(half))
    gaps = {round(b - a) for a, b in zip(half, half[1:], strict=False)}
    assert gaps == {1800}  # every 30 minutes of real time, through the transition too
    statuses = {
        h["status"]
        for name in ("daily", "halfhourly")
        for h in api.schedule_history(name, limit=1000, store=store)
    }
    assert statuses == {"finished"}
