"""Exactly once per trigger event: two schedulers on one store, with injected time, never run
the same event twice; a scheduler that dies mid-execution has its event taken over (crashed,
then retried) by the other."""

from __future__ import annotations

import threading
from collections import Counter

import pandas as pd
import pytest
from automation_helpers import make_scheduler, tick

import kernel_magics as mlops
from kernel_magics.core.automations.api import add_automation, automation_history
from kernel_magics.core.store.automation_events import NewEvent


def _tick_twice(scheduler) -> None:
    tick(scheduler)
    tick(scheduler)


def test_two_schedulers_never_run_the_same_event_twice(any_store, clock, inbox):
    """On SQLite one scheduler leads and the other stands by; on PostgreSQL both are ``shared``
    and race for every event, so there the lease is what keeps each event to one run."""
    store = any_store
    add_automation({"name": "hourly", "trigger": {"cron": "0 * * * *", "timezone": "UTC"},
                    "steps": [inbox.step()]}, store=store, now=clock.now())  # fmt: skip
    add_automation({"name": "on-data", "trigger": {"dataset": "d"}, "steps": [inbox.step()]},
                   store=store, now=clock.now())  # fmt: skip
    a, b = make_scheduler(store, clock, "sched-a"), make_scheduler(store, clock, "sched-b")
    for hour in range(4):
        with mlops.start_run():
            mlops.log_dataset(pd.DataFrame({"x": [hour, hour + 1]}), name="d")
        clock.advance(3600)
        # Both notice every event; they tick at the same time, each on its own thread.
        threads = [threading.Thread(target=_tick_twice, args=(s,)) for s in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    tick(a)
    tick(b)

    roles = {a.role, b.role}
    assert roles == ({"leader", "standby"} if store.db.is_sqlite else {"shared"}), roles
    fired = Counter(m["trigger"] for m in inbox.messages)
    assert len(fired) == 8 and set(fired.values()) == {1}  # 4 fire times + 4 versions, once each
    for name in ("hourly", "on-data"):
        events = automation_history(name, store=store)
        assert [e["status"] for e in events] == ["finished"] * 4
        assert all(len(e["attempts"]) == 1 for e in events)


def test_one_event_is_claimed_by_one_owner_however_many_try(any_store):
    from kernel_magics.core.automations.spec import AutomationSpec

    store = any_store
    spec = AutomationSpec.from_dict({"name": "race", "trigger": "manual", "steps": [
        {"notify": {"command": "true"}}]})  # fmt: skip
    record = store.automations.create(spec, now=100.0)
    for _ in range(3):  # every scheduler inserts the event it noticed: one row
        store.automations.add_events(record, [NewEvent("dataset:d@1", 100.0, {})], now=100.0)
    barrier = threading.Barrier(6)
    won: list[str] = []

    def claim(owner: str) -> None:
        barrier.wait()
        won.extend(c.event_key + "/" + owner for c in
                   store.automations.claim(owner, 101.0, 30.0, 5))  # fmt: skip

    threads = [threading.Thread(target=claim, args=(f"owner-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and won[0].startswith("dataset:d@1/")


def test_a_dead_schedulers_event_is_crashed_then_retried_by_the_other(store, clock, inbox):
    add_automation({"name": "nightly", "trigger": {"cron": "0 3 * * *", "timezone": "UTC"},
                    "retries": 1, "retry_delay": 0, "steps": [inbox.step()]},
                   store=store, now=clock.now())  # fmt: skip
    clock.advance(3600 + 5)
    record = store.automations.get("nightly")
    # Scheduler A claimed the event and died before running it (no renewal, no end).
    from kernel_magics.core.automations.triggers import new_events

    store.automations.add_events(record, new_events(store, record, clock.now()), clock.now())
    [claim] = store.automations.claim("sched-a", clock.now(), 30.0, 1)
    parent = store.runs.create(store.experiments.get_or_create(None), name="automation nightly",
                               source="automation", tags={"mlops.automation.attempt":
                                                          f"{claim.event_id}:1"})  # fmt: skip
    store.automations.set_run(claim, parent)

    b = make_scheduler(store, clock, "sched-b")
    tick(b)  # the lease still holds: nothing happens
    assert inbox.messages == []
    clock.advance(31)
    tick(b)  # reaped (crashed), and retried at once (retry_delay 0) by b
    tick(b)
    [event] = automation_history("nightly", store=store)
    assert [a["status"] for a in event["attempts"]] == ["crashed", "finished"]
    assert "stopped renewing its lease" in event["attempts"][0]["error"]
    assert store.runs.get(parent).status == "crashed"
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("owner", ["sched-a"])
def test_a_standby_scheduler_claims_nothing_on_sqlite(store, clock, inbox, owner):
    add_automation({"name": "on-data", "trigger": {"dataset": "d"}, "steps": [inbox.step()]},
                   store=store, now=clock.now())  # fmt: skip
    leader = make_scheduler(store, clock, owner)
    standby = make_scheduler(store, clock, "sched-b")
    tick(leader)
    with mlops.start_run():
        mlops.log_dataset(pd.DataFrame({"x": [1]}), name="d")
    tick(standby)
    assert inbox.messages == [] and standby.role == "standby"
    tick(leader)
    assert [m["trigger"] for m in inbox.messages] == ["dataset:d@1"]
