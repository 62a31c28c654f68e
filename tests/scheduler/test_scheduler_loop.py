"""The scheduler loop with an injected clock and executor: no test waits real minutes."""

from __future__ import annotations

import json
import sys

import pytest
from sched_helpers import RecordingExecutor, at, local

from kernel_magics.core.names import Tag
from kernel_magics.core.scheduler import api
from kernel_magics.core.scheduler.catchup import materialize
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.errors import InvalidScheduleError, UnknownParameterError


def make(store, notebook, clock, cron="0 * * * *", name=None, parameters_from_text=False, **kw):
    kw.setdefault("timezone", "UTC")
    options = api.ScheduleOptions(cron=cron, **kw)
    return api.schedule(
        notebook,
        options,
        name=name,
        parameters_from_text=parameters_from_text,
        store=store,
        now=clock.now(),
    )


def scheduler(store, clock, executor, **kw):
    kw.setdefault("poll_interval", 5.0)
    kw.setdefault("lease", 60.0)
    kw.setdefault("grace", 300.0)
    return Scheduler(store, executor=executor, clock=clock, **kw)


def tick(s):
    report = s.tick()
    s.wait_idle(30)
    return report


def statuses(store, name):
    return [
        (local(h["slot_time"], "UTC"), h["status"], h["attempt"])
        for h in reversed(api.schedule_history(name, store=store))
    ]


def test_each_fire_time_runs_once(any_store, notebook, clock):
    store = any_store
    # Given an hourly schedule and a scheduler ticking every 5 minutes for 3 hours
    make(store, notebook, clock)
    ex = RecordingExecutor()
    s = scheduler(store, clock, ex)
    # When
    for _ in range(36):
        clock.advance(300)
        tick(s)
    # Then every hour fired exactly once, at its fire time, and finished
    assert [local(t, "UTC") for _, t, _ in ex.fired] == [
        "2026-01-05T01:00:00+00:00",
        "2026-01-05T02:00:00+00:00",
        "2026-01-05T03:00:00+00:00",
    ]
    assert [st for _, st, _ in statuses(store, "train")] == ["finished"] * 3
    # and ticking again at the same time creates and runs nothing new
    assert tick(s).created == 0 and len(ex.jobs) == 3


@pytest.mark.parametrize(
    "policy, expected",
    [
        ("latest", ["missed", "missed", "finished", "finished"]),
        ("all", ["finished", "finished", "finished", "finished"]),
        ("none", ["missed", "missed", "missed", "finished"]),
    ],
)
def test_catchup_policies(any_store, notebook, clock, policy, expected):
    store = any_store
    # Given an hourly schedule and no scheduler for 3.5 hours (grace 5 minutes)
    make(store, notebook, clock, catchup=policy)
    ex = RecordingExecutor()
    s = scheduler(store, clock, ex)
    clock.advance(3.5 * 3600)
    # When a scheduler starts, then runs on until the next fire time
    tick(s)
    clock.advance(1800)
    tick(s)
    # Then the policy decided which missed slots ran; the others are in the history as missed
    history = statuses(store, "train")
    assert [h[0][11:16] for h in history] == ["01:00", "02:00", "03:00", "04:00"]
    assert [h[1] for h in history] == expected
    missed = [h for h in api.schedule_history("train", store=store) if h["status"] == "missed"]
    assert all(f"policy is '{policy}'" in h["error"] for h in missed)
    assert len(ex.jobs) == expected.count("finished")


def test_slot_within_grace_is_not_missed(store, notebook, clock):
    make(store, notebook, clock, catchup="none")
    ex = RecordingExecutor()
    s = scheduler(store, clock, ex, grace=120)
    clock.advance(3600 + 119)  # 1:59 after the fire time: still on time
    tick(s)
    assert [h[1] for h in statuses(store, "train")] == ["finished"]


def test_pause_and_resume(any_store, notebook, clock):
    store = any_store
    make(store, notebook, clock)
    ex = RecordingExecutor()
    s = scheduler(store, clock, ex)
    clock.advance(3600)
    tick(s)  # 01:00 runs
    api.pause_schedule("train", store=store)
    for _ in range(4):  # 02:00..05:00 pass while paused
        clock.advance(3600)
        tick(s)
    assert len(ex.jobs) == 1
    clock.advance(1800)  # 05:30
    api.resume_schedule("train", store=store, now=clock.now())
    clock.advance(1800)  # 06:00
    tick(s)
    # Paused fire times are skipped on purpose (not missed, not caught up)
    assert [h[0][11:16] for h in statuses(store, "train")] == ["01:00", "06:00"]
    assert [local(t, "UTC")[11:16] for _, t, _ in ex.fired] == ["01:00", "06:00"]


def test_retries_with_delay_then_notification(any_store, notebook, clock, tmp_path):
    store = any_store
    # Given a schedule with 2 retries 10 minutes apart and a notification command
    out = tmp_path / "notified.json"
    cmd = f"{sys.executable} -c \"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())\""
    make(store, notebook, clock, retries=2, retry_delay=600, notify_command=cmd)
    ex = RecordingExecutor(["failed", "killed", "failed"], error="Cell 2 raised ValueError")
    s = scheduler(store, clock, ex)
    clock.advance(3600)
    tick(s)
    assert statuses(store, "train") == [("2026-01-05T01:00:00+00:00", "retrying", 1)]
    clock.advance(300)
    tick(s)  # the delay has not passed yet
    assert len(ex.jobs) == 1 and not out.exists()
    clock.advance(300)
    tick(s)  # attempt 2 (killed: timeouts are retried too)
    clock.advance(600)
    tick(s)  # attempt 3 fails: out of retries
    assert [j.attempt for j in ex.jobs] == [1, 2, 3]
    assert statuses(store, "train") == [("2026-01-05T01:00:00+00:00", "failed", 3)]
    attempts = api.schedule_history("train", store=store)[0]["attempts"]
    assert [a["status"] for a in attempts] == ["failed", "killed", "failed"]
    assert attempts[1]["started_at"] - attempts[0]["ended_at"] == 600
    message = json.loads(out.read_text())
    assert message["schedule"] == "train" and message["status"] == "failed"
    assert message["attempt"] == 3 and message["error"] == "Cell 2 raised ValueError"
    assert message["slot"] == "2026-01-05T01:00:00+00:00" and "run_id" in message


def test_success_after_retry_does_not_notify(store, notebook, clock, tmp_path):
    out = tmp_path / "notified.json"
    cmd = f"{sys.executable} -c \"open({str(out)!r}, 'w').write('x')\""
    make(store, notebook, clock, retries=1, retry_delay=0, notify_command=cmd)
    ex = RecordingExecutor(["raise"])
    s = scheduler(store, clock, ex)
    clock.advance(3600)
    tick(s)
    attempts = api.schedule_history("train", store=store)[0]["attempts"]
    assert attempts[0]["error"] == "RuntimeError: executor exploded"
    clock.advance(5)
    tick(s)
    assert statuses(store, "train")[0][1:] == ("finished", 2)
    assert not out.exists()


def test_no_retry_when_notebook_stopped_matching(store, notebook, clock, tmp_path):
    # Given a schedule with retries whose notebook later loses its parameter
    from sched_helpers import write_notebook

    from kernel_magics.core.scheduler.executors import RunnerSlotExecutor

    make(store, notebook, clock, parameters={"alpha": 0.1}, retries=3, retry_delay=0)
    write_notebook(notebook, parameters_source="beta = 1\n")
    s = scheduler(store, clock, RunnerSlotExecutor())
    clock.advance(3600)
    tick(s)
    # Then the slot failed at once with a readable reason, no traceback, no retry
    slot = api.schedule_history("train", store=store)[0]
    assert slot["status"] == "failed" and slot["attempt"] == 1
    assert "no longer matches schedule 'train'" in slot["error"]
    assert "has no parameter 'alpha'" in slot["error"] and "Traceback" not in slot["error"]


def test_dead_scheduler_slot_crashes_then_retried_by_peer(any_store, notebook, clock):
    store = any_store
    # Given scheduler A claimed a slot and died (never ends it, never renews)
    make(store, notebook, clock, retries=1, retry_delay=0)
    slots = store.slots
    clock.advance(3600)
    record = api.get_schedule("train", store=store)
    materialize(slots, record, clock.now(), 300)
    [claim] = slots.claim("dead-A", clock.now(), 60, 10)
    # and its attempt had started a tracked run (its process is alive: no reaper touches it)
    run_id = store.runs.create(
        store.experiments.get_or_create(None),
        source="schedule",
        tags={Tag.SLOT_ATTEMPT: f"{claim.slot_id}:{claim.attempt}"},
    )
    ex = RecordingExecutor()
    b = scheduler(store, clock, ex, owner="B")
    # When B ticks before the lease expires it leaves the slot alone
    clock.advance(30)
    assert tick(b).crashed == 0 and ex.jobs == []
    assert store.runs.get(run_id).status == "running"
    # After the lease expired B marks the attempt crashed and runs attempt 2
    clock.advance(31)
    assert tick(b).crashed == 1
    # and the attempt's run ended crashed too, with the reason and the reap time
    run = store.runs.get(run_id)
    assert run.status == "crashed" and "dead-A" in run.error
    assert run.end_time == pytest.approx(clock.now())
    clock.advance(5)
    tick(b)
    slot = api.schedule_history("train", store=store)[0]
    assert [(a["status"], a["attempt"]) for a in slot["attempts"]] == [
        ("crashed", 1),
        ("finished", 2),
    ]
    assert "dead-A" in slot["attempts"][0]["error"]
    assert slot["attempts"][0]["run_id"] == run_id
    # and a late end from A is refused (it lost the lease)
    assert slots.complete(claim, "dead-A", "finished", clock.now()) is None


@pytest.mark.postgres
def test_postgres_schedulers_share_the_work(pg_url, monkeypatch, tmp_path, notebook, clock):
    # On PostgreSQL there is no leader: both schedulers work, never on the same slot
    from kernel_magics.core.store import open_store

    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", str(tmp_path / "artifacts"))
    store = open_store()
    for i in range(4):
        make(store, notebook, clock, name=f"s{i}")
    ex_a, ex_b = RecordingExecutor(), RecordingExecutor()
    a = scheduler(store, clock, ex_a, owner="A", max_workers=1)
    b = scheduler(store, clock, ex_b, owner="B", max_workers=1)
    clock.advance(3600)
    assert a.tick().role == "shared" and b.tick().role == "shared"
    for _ in range(2):
        a.wait_idle(30)
        b.wait_idle(30)
        a.tick()
        b.tick()
    a.wait_idle(30)
    b.wait_idle(30)
    fired = ex_a.fired + ex_b.fired
    assert len(fired) == 4 and len({f[0] for f in fired}) == 4
    assert len(ex_a.jobs) == 2 and len(ex_b.jobs) == 2


def test_sqlite_second_scheduler_is_standby(store, notebook, clock):
    make(store, notebook, clock)
    ex_a, ex_b = RecordingExecutor(), RecordingExecutor()
    a = scheduler(store, clock, ex_a, owner="A")
    b = scheduler(store, clock, ex_b, owner="B")
    for _ in range(3):
        clock.advance(3600)
        assert tick(a).role == "leader"
        assert tick(b).role == "standby"
    assert len(ex_a.jobs) == 3 and ex_b.jobs == []
    # A dies: B takes over once A's lease has expired
    clock.advance(61)
    assert tick(b).role == "leader"
    clock.advance(3600)
    tick(b)
    assert len(ex_b.jobs) == 1


def test_bad_input_is_refused_before_anything_is_stored(store, notebook, clock):
    with pytest.raises(InvalidScheduleError, match="expected 5 fields"):
        make(store, notebook, clock, cron="0 3 * *")
    with pytest.raises(InvalidScheduleError, match="Unknown timezone 'Europe/Berln'"):
        make(store, notebook, clock, timezone="Europe/Berln")
    with pytest.raises(UnknownParameterError, match="no parameter 'alpah'. Did you mean 'alpha'"):
        make(store, notebook, clock, parameters={"alpah": 1.0})
    with pytest.raises(InvalidScheduleError, match="catch-up policy 'some'"):
        make(store, notebook, clock, catchup="some")
    with pytest.raises(InvalidScheduleError, match="retries must be a whole number"):
        make(store, notebook, clock, retries=-1)
    with pytest.raises(InvalidScheduleError, match="not an http"):
        make(store, notebook, clock, notify_webhook="ftp://x")
    with pytest.raises(InvalidScheduleError, match=r"cron string or ScheduleOptions\(cron=...\)"):
        api.schedule(notebook, {"cron": "0 3 * * *"}, store=store)
    assert api.schedules(store=store) == []


def test_a_cron_string_alone_and_a_copied_schedule(store, notebook, clock):
    # A plain cron string schedules with default options
    daily = api.schedule(notebook, "@daily", name="daily", store=store, now=clock.now())
    assert (daily.cron, daily.retries, daily.catchup, daily.parameters) == (
        "@daily",
        0,
        "latest",
        {},
    )
    assert [t.hour for t in api.next_runs(daily, 2, after=clock.now())] == [0, 0]
    # and a stored schedule's options can make another one (its identity is not copied)
    source = make(store, notebook, clock, retries=2, timeout=60, parameters={"alpha": 0.1})
    copy = api.schedule(notebook, source, name="copy", store=store, now=clock.now())
    assert copy.id != source.id and copy.name == "copy"
    assert (copy.retries, copy.timeout, copy.parameters) == (2, 60.0, {"alpha": 0.1})


def test_parameters_from_text_are_converted(store, notebook, clock):
    record = make(
        store,
        notebook,
        clock,
        parameters={"alpha": "0.25", "label": "b"},
        parameters_from_text=True,
    )
    assert record.parameters == {"alpha": 0.25, "label": "b"}
    assert [t.isoformat() for t in api.next_runs(record, after=clock.now())] == [
        "2026-01-05T01:00:00+00:00",
        "2026-01-05T02:00:00+00:00",
        "2026-01-05T03:00:00+00:00",
    ]


def test_background_scheduler_thread_fires_and_stops(store, notebook):
    # The Jupyter server extension runs the scheduler this way while JupyterLab is open
    import time

    from kernel_magics.core.scheduler.clock import ScaledClock
    from kernel_magics.core.scheduler.daemon import running_schedulers, start_background_scheduler

    clock = ScaledClock(at("2026-01-05T00:00:00"), speed=600)  # ten minutes per real second
    api.schedule(
        notebook,
        api.ScheduleOptions(cron="* * * * *", timezone="UTC"),
        store=store,
        now=clock.now(),
    )
    ex = RecordingExecutor()
    thread, stop = start_background_scheduler(
        store.location, clock=clock, executor=ex, poll_interval=5, lease=30
    )
    deadline = time.time() + 30
    while time.time() < deadline and len(ex.jobs) < 3:
        time.sleep(0.05)
    assert [a["role"] for a in running_schedulers(store, now=clock.now())] == ["leader"]
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert len(ex.jobs) >= 3
    assert [t % 60 for _, t, _ in ex.fired] == [0.0] * len(ex.jobs)
    assert running_schedulers(store, now=clock.now()) == []


def test_heartbeats_of_long_dead_schedulers_are_pruned(store, clock):
    from kernel_magics.core.scheduler.daemon import HEARTBEAT_PREFIX, running_schedulers

    leases = store.leases
    leases.acquire(HEARTBEAT_PREFIX + "old", "old", clock.now() - 2 * 86400, 60)
    leases.acquire(HEARTBEAT_PREFIX + "recent", "recent", clock.now() - 3600, 60)
    scheduler(store, clock, RecordingExecutor(), owner="me").tick()
    assert leases.holder(HEARTBEAT_PREFIX + "old") is None
    assert leases.holder(HEARTBEAT_PREFIX + "recent") is not None  # shown dead, kept a day
    assert [s["owner"] for s in running_schedulers(store, now=clock.now())] == ["me"]


def test_a_working_scheduler_records_dead_runs_crashed(store, clock):
    # Given a run recorded running whose process is gone (reads only show it crashed)
    import subprocess

    from sqlalchemy import select

    from kernel_magics.core.store.schema import runs

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_id = store.runs.create(store.experiments.get_or_create(None), pid=dead.pid)

    def stored_status() -> str:
        with store.db.read() as conn:
            return conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar_one()

    assert stored_status() == "running"
    # When a scheduler ticks, Then the status is written, not only derived
    scheduler(store, clock, RecordingExecutor(), owner="me").tick()
    assert stored_status() == "crashed"
    assert store.runs.get(run_id).status == "crashed"
