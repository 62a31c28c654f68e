"""Several scheduler processes on one store: exactly once per slot, SIGKILLs, takeover.

The processes run a scaled clock (``SPEED`` scheduled seconds per real second) and a trivial
executor that logs each attempt, so hundreds of minutely slots pass in seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sched_helpers import at, write_notebook

from kernel_magics.core.scheduler import api
from kernel_magics.core.scheduler.clock import ScaledClock
from kernel_magics.core.store import close_stores, open_store

WORKER = Path(__file__).with_name("sched_worker.py")
SPEED = 120.0  # one scheduled minute every half real second
POLL, LEASE, GRACE, WORK = 10.0, 120.0, 300.0, 10.0  # scheduled seconds
# A tick itself takes time, and a loaded 2-core machine stalls processes: allow a quarter of a
# real second (30 scheduled seconds) on top of lease + poll interval.
STALL = 0.25 * SPEED


class Cluster:
    """Scheduler processes sharing one store, a clock and an event log."""

    def __init__(self, tmp_path: Path):
        self.log = tmp_path / "events.jsonl"
        self.start = at("2026-01-05T00:00:00")
        self.clock = ScaledClock(self.start, SPEED)
        self.procs: dict[str, subprocess.Popen] = {}
        self.kills: list[tuple[str, float]] = []
        self.counter = 0

    def spawn(self, name: str) -> str:
        self.counter += 1
        owner = f"{name}-{self.counter}"
        args = [
            sys.executable,
            str(WORKER),
            "--log",
            str(self.log),
            "--owner",
            owner,
            "--start",
            repr(self.clock.start),
            "--origin",
            repr(self.clock.origin),
            "--speed",
            repr(SPEED),
            "--poll",
            repr(POLL),
            "--lease",
            repr(LEASE),
            "--grace",
            repr(GRACE),
            "--work",
            repr(WORK),
        ]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=dict(os.environ))
        assert proc.stdout.readline().strip() == b"ready"
        self.procs[name] = proc
        return owner

    def kill(self, name: str, owner: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.kills.append((owner, self.clock.now()))
        self.procs[name].wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            proc.wait(timeout=60)

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def make_schedules(tmp_path, count: int, start: float) -> None:
    notebook = write_notebook(tmp_path / "job.ipynb")
    for i in range(count):
        api.schedule(
            notebook,
            "* * * * *",
            name=f"job{i}",
            timezone="UTC",
            retries=5,
            retry_delay=0,
            catchup="all",
            now=start,
        )


def slot_report(store, until: float) -> list[dict]:
    rows = []
    for record in api.schedules(store=store):
        for slot in api.schedule_history(record.name, limit=100_000, store=store):
            if slot["slot_time"] <= until:
                rows.append(dict(slot, schedule=record.name))
    return rows


def check_exactly_once(cluster: Cluster, slots: list[dict], schedules: int, until: float):
    # Every minute of every schedule is one slot, and each one finished
    expected = schedules * int((until - cluster.start) // 60)
    assert len(slots) == expected >= 200
    assert Counter(s["status"] for s in slots) == {"finished": expected}
    keys = [(s["schedule"], s["slot_time"]) for s in slots]
    assert len(keys) == len(set(keys))
    # No attempt ran twice, and a slot ran again only after its scheduler was SIGKILLed
    starts = Counter((e["slot"], e["attempt"]) for e in cluster.events() if e["event"] == "start")
    assert max(starts.values()) == 1
    killed = {owner for owner, _ in cluster.kills}
    reruns = 0
    for slot in slots:
        for attempt in slot["attempts"][:-1]:
            reruns += 1
            assert attempt["status"] == "crashed"
            assert any(f"({owner})" in attempt["error"] for owner in killed), attempt
        assert slot["attempts"][-1]["status"] == "finished"
    return reruns


def takeover_delays(cluster: Cluster, slots: list[dict]) -> tuple[list[float], list[float]]:
    """For each attempt lost with a killed scheduler, in scheduled seconds after the kill:
    when a live scheduler took the slot over (ended the attempt ``crashed``), and when the
    retry started."""
    kill_at = dict(cluster.kills)
    starts = {(e["slot"], e["attempt"]): e for e in cluster.events() if e["event"] == "start"}
    taken, restarted = [], []
    for slot in slots:
        for attempt in slot["attempts"][:-1]:
            killed_at = kill_at[starts[(slot["id"], attempt["attempt"])]["owner"]]
            taken.append(attempt["ended_at"] - killed_at)
            restarted.append(starts[(slot["id"], attempt["attempt"] + 1)]["t"] - killed_at)
    return taken, restarted


@pytest.mark.slow
@pytest.mark.postgres
def test_three_schedulers_on_postgres_one_killed_repeatedly(tmp_path, pg_url, monkeypatch):
    # Given 12 minutely schedules on PostgreSQL and three scheduler processes
    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", str(tmp_path / "artifacts"))
    cluster = Cluster(tmp_path)
    make_schedules(tmp_path, 12, cluster.start)
    close_stores()
    owners = {name: cluster.spawn(name) for name in ("a", "b", "c")}
    # When "a" is SIGKILLed every 1-2.5 s (mid-attempt, usually) and restarted
    rng = random.Random(7)
    deadline = time.time() + 14
    try:
        while time.time() < deadline:
            time.sleep(rng.uniform(1.0, 2.5))
            cluster.kill("a", owners["a"])
            time.sleep(rng.uniform(0.05, 0.3))
            owners["a"] = cluster.spawn("a")
        until = cluster.clock.now() - 60
        time.sleep((LEASE + 3 * POLL + WORK) / SPEED + 1.0)  # let takeovers finish
    finally:
        cluster.stop()
    # Then every slot up to the last kill ran exactly once (bar recoveries from kills)
    store = open_store()
    slots = slot_report(store, until)
    reruns = check_exactly_once(cluster, slots, 12, until)
    assert len(cluster.kills) >= 5
    taken, restarted = takeover_delays(cluster, slots)
    assert reruns == len(taken) >= 1
    # and each lost attempt was taken over within lease + poll interval (+ stall allowance)
    assert max(taken) <= LEASE + POLL + STALL, sorted(taken)[-5:]
    print(
        f"\n{len(slots)} slots, {len(cluster.kills)} kills, {reruns} recovered attempts, "
        f"takeover max {max(taken):.0f} s (lease {LEASE:g} + poll {POLL:g}), retry started "
        f"max {max(restarted):.0f} s after the kill"
    )
    # The work was shared: every process ran attempts
    owners_seen = {e["owner"][0] for e in cluster.events() if e["event"] == "start"}
    assert owners_seen == {"a", "b", "c"}


@pytest.mark.slow
def test_two_schedulers_on_sqlite_one_standby(tmp_path):
    # Given 6 minutely schedules on SQLite and two scheduler processes
    cluster = Cluster(tmp_path)
    make_schedules(tmp_path, 6, cluster.start)
    close_stores()
    first = cluster.spawn("a")
    time.sleep(0.3)
    second = cluster.spawn("b")
    # When the leader runs for a while, is SIGKILLed, and comes back as the standby
    try:
        time.sleep(8)
        cluster.kill("a", first)
        time.sleep(0.2)
        third = cluster.spawn("a")
        time.sleep(8)
        until = cluster.clock.now() - 60
        time.sleep((LEASE + 3 * POLL + WORK) / SPEED + 1.0)
    finally:
        cluster.stop()
    store = open_store()
    slots = slot_report(store, until)
    check_exactly_once(cluster, slots, 6, until)
    # Then only one scheduler ever ran slots at a time: a's attempts, then the new leader's
    events = cluster.events()
    starts = [e for e in events if e["event"] == "start"]
    kill_t = cluster.kills[0][1]
    assert {e["owner"] for e in starts if e["t"] < kill_t} == {first}
    after = {e["owner"] for e in starts if e["t"] > kill_t + 1}
    assert len(after) == 1 and after <= {second, third}
    [leader] = after
    standby = ({second, third} - after).pop()
    roles = [(e["owner"], e["role"]) for e in events if e["event"] == "role"]
    assert (second, "standby") in roles and (leader, "leader") in roles
    assert (standby, "standby") in roles and (standby, "leader") not in roles
    took_over = min(
        e["t"]
        for e in events
        if e["event"] == "role" and e["owner"] == leader and e["role"] == "leader"
    )
    assert took_over - kill_t <= LEASE + POLL + STALL
