"""Run-now, webhook notifications, and notebooks that disappear."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sched_helpers import RecordingExecutor

from kernel_magics.core.scheduler import api
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.core.scheduler.executors import RunnerSlotExecutor


@pytest.fixture
def webhook():
    """A real HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_webhook_receives_the_failure(store, notebook, clock, webhook):
    url, received = webhook
    api.schedule(
        notebook,
        api.ScheduleOptions(cron="0 * * * *", timezone="UTC", notify_webhook=url),
        store=store,
        now=clock.now(),
    )
    s = Scheduler(store, executor=RecordingExecutor(["killed"], error="timed out after 60 s"),
                  clock=clock)  # fmt: skip
    clock.advance(3600)
    s.tick()
    s.wait_idle(30)
    [(content_type, message)] = received
    assert content_type == "application/json"
    assert message["status"] == "killed" and message["error"] == "timed out after 60 s"
    assert message["schedule"] == "train" and message["slot"] == "2026-01-05T01:00:00+00:00"


def test_unreachable_webhook_does_not_stop_the_scheduler(store, notebook, clock, caplog):
    api.schedule(
        notebook,
        api.ScheduleOptions(
            cron="0 * * * *",
            timezone="UTC",
            notify_webhook="http://127.0.0.1:9/nothing-listens-here",
        ),
        store=store,
        now=clock.now(),
    )
    ex = RecordingExecutor(["failed", "failed"])
    s = Scheduler(store, executor=ex, clock=clock)
    for _ in range(2):
        clock.advance(3600)
        s.tick()
        s.wait_idle(30)
    assert len(ex.jobs) == 2
    assert "webhook http://127.0.0.1:9/nothing-listens-here failed" in caplog.text


def test_run_now_fires_once_even_when_paused(store, notebook, clock):
    api.schedule(
        notebook,
        api.ScheduleOptions(cron="0 3 * * *", timezone="UTC"),
        store=store,
        now=clock.now(),
    )
    api.pause_schedule("train", store=store)
    ex = RecordingExecutor()
    end = api.run_schedule_now("train", store=store, executor=ex)
    assert end.slot_status == "finished" and len(ex.jobs) == 1
    [slot] = api.schedule_history("train", store=store)
    assert slot["trigger"] == "manual" and slot["status"] == "finished"
    assert ex.jobs[0].tags["mlops.trigger"] == "manual"


def test_manual_slot_does_not_hide_cron_fire_times(store, notebook, clock):
    # A run-now between two fire times must not move the cron cursor past the next one
    api.schedule(
        notebook,
        api.ScheduleOptions(cron="0 * * * *", timezone="UTC"),
        store=store,
        now=clock.now(),
    )
    record = api.get_schedule("train", store=store)
    store.slots.add_manual(record, clock.now() + 5400)  # 01:30
    ex = RecordingExecutor()
    s = Scheduler(store, executor=ex, clock=clock)
    clock.advance(7200)  # 02:00
    s.tick()
    s.wait_idle(30)
    history = api.schedule_history("train", store=store)
    assert sorted((h["trigger"], h["slot_time"] - clock.now()) for h in history) == [
        ("cron", -3600.0),
        ("cron", 0.0),
        ("manual", -1800.0),
    ]


def test_deleted_notebook_fails_the_slot_readably(store, notebook, clock):
    api.schedule(
        notebook,
        api.ScheduleOptions(cron="0 * * * *", timezone="UTC", retries=2),
        store=store,
        now=clock.now(),
    )
    notebook.unlink()
    s = Scheduler(store, executor=RunnerSlotExecutor(), clock=clock)
    clock.advance(3600)
    s.tick()
    s.wait_idle(30)
    [slot] = api.schedule_history("train", store=store)
    assert slot["status"] == "failed" and slot["attempt"] == 1  # no retry: it cannot help
    assert f"The notebook {notebook} of schedule 'train' no longer exists" in slot["error"]


def test_stopping_drains_running_attempts_and_hands_the_lease_over(store, notebook, clock):
    import time

    from kernel_magics.core.scheduler.daemon import LEADER_LEASE
    from kernel_magics.core.scheduler.executors import BaseSlotExecutor, Outcome

    started = threading.Event()

    class Slow(BaseSlotExecutor):
        def execute(self, job):
            started.set()
            time.sleep(0.5)
            return Outcome("finished")

    api.schedule(
        notebook,
        api.ScheduleOptions(cron="0 * * * *", timezone="UTC"),
        store=store,
        now=clock.now() - 3599,
    )
    s = Scheduler(store, executor=Slow(), clock=clock, poll_interval=5, lease=60)
    stop = threading.Event()
    loop = threading.Thread(target=s.run, args=(stop,), kwargs={"drain": 10})
    loop.start()
    assert started.wait(10)
    stop.set()  # SIGTERM in `mlops scheduler`
    loop.join(20)
    assert not loop.is_alive()
    [slot] = api.schedule_history("train", store=store)
    assert slot["status"] == "finished"  # the running notebook was waited for, not abandoned
    assert store.leases.holder(LEADER_LEASE)[1] == 0.0  # a standby can take over at once
