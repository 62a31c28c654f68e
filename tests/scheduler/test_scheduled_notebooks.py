"""End to end: schedules fire real papermill runs (templates/train.ipynb and test fixtures).

The slot times come from a manual clock; the notebooks run for real (kernels, papermill).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from kernel_magics.core.scheduler import api
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.core.scheduler.executors import RunnerSlotExecutor

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
TEMPLATES = Path(__file__).parents[2] / "templates"


def copy(source: str | Path, tmp_path: Path) -> Path:
    """Copy a fixture notebook (a name) or any notebook (a path) into the test's folder."""
    source = NOTEBOOKS / source if isinstance(source, str) else source
    target = tmp_path / source.name
    shutil.copy(source, target)
    return target


@pytest.mark.slow
def test_scheduled_runs_metrics_retry_timeout_and_notification(store, clock, tmp_path):
    # Given three schedules: the train template (params, dataset, metrics), one that raises (1 retry, then a
    # notification command), one that sleeps past its timeout
    notified = tmp_path / "notified.json"
    command = (
        f'{sys.executable} -c "import sys; '
        f"open({str(notified)!r}, 'a').write(sys.stdin.read() + chr(10))\""
    )
    now = clock.now()
    api.schedule(
        copy(TEMPLATES / "train.ipynb", tmp_path),
        api.ScheduleOptions(
            cron="*/5 * * * *",
            timezone="UTC",
            parameters={"C": "0.5", "model_name": ""},
            experiment="nightly",
        ),
        name="metric",
        parameters_from_text=True,
        store=store,
        now=now,
    )
    api.schedule(
        copy("raises.ipynb", tmp_path),
        api.ScheduleOptions(
            cron="*/5 * * * *", timezone="UTC", retries=1, retry_delay=60, notify_command=command
        ),
        name="broken",
        store=store,
        now=now,
    )
    api.schedule(
        copy("sleeps.ipynb", tmp_path),
        api.ScheduleOptions(cron="*/5 * * * *", timezone="UTC", timeout=3),
        name="slow",
        store=store,
        now=now,
    )
    scheduler = Scheduler(store, executor=RunnerSlotExecutor(), clock=clock, max_workers=3)
    # When the first fire time comes (the three notebooks run in parallel)
    clock.advance(300)
    assert scheduler.tick().claimed == 3
    scheduler.wait_idle(120)
    # Then the train template's run is a tracked run of source "schedule" linked to its slot
    [slot] = api.schedule_history("metric", store=store)
    assert slot["status"] == "finished" and slot["attempt"] == 1
    run = store.runs.get(slot["run_id"])
    assert run.status == "finished" and run.source == "schedule"
    assert run.experiment == "nightly" and run.metrics["accuracy"] > 0.9
    assert run.params["C"] == "0.5" and run.params["dataset"] == "breast_cancer"
    assert run.tags["mlops.schedule"] == "metric"
    assert run.tags["mlops.slot"] == "2026-01-05T00:05:00+00:00"
    assert run.tags["mlops.slot_attempt"] == f"{slot['id']}:1"
    output, _ = store.artifacts.read(run.id, "output.ipynb")
    executed = nbformat.reads(output.decode(), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    # the timed-out notebook's run was killed (no retries configured)
    [slow] = api.schedule_history("slow", store=store)
    assert slow["status"] == "killed" and store.runs.get(slow["run_id"]).status == "killed"
    # the failing notebook failed once and waits for its retry; nobody was notified yet
    [broken] = api.schedule_history("broken", store=store)
    assert broken["status"] == "retrying" and not notified.exists()
    first_run = broken["attempts"][0]["run_id"]
    assert store.runs.get(first_run).status == "failed"
    # When the retry delay has passed, the retry fails too
    clock.advance(60)
    scheduler.tick()
    scheduler.wait_idle(120)
    [broken] = api.schedule_history("broken", store=store)
    assert broken["status"] == "failed" and broken["attempt"] == 2
    assert [a["status"] for a in broken["attempts"]] == ["failed", "failed"]
    second_run = broken["attempts"][1]["run_id"]
    assert second_run not in (None, first_run)
    # Then the notification command received one JSON message about the final attempt
    [line] = notified.read_text().splitlines()
    message = json.loads(line)
    assert message["schedule"] == "broken" and message["status"] == "failed"
    assert message["run_id"] == second_run and message["attempt"] == 2
    assert "boom from the notebook" in message["error"]
    assert message["slot"] == "2026-01-05T00:05:00+00:00"


@pytest.mark.slow
def test_scheduler_killed_mid_run_crashes_the_run_and_a_peer_retries(store, tmp_path):
    # Given a scheduler process running a real notebook for a slot (it sleeps 60 s)
    import os
    import signal
    import subprocess
    import time

    from sched_helpers import RecordingExecutor, at

    from kernel_magics.core.scheduler.clock import ScaledClock
    from kernel_magics.core.store.schema import runs, tags

    fire = at("2026-01-05T01:00:00")
    clock = ScaledClock(fire - 1, speed=1.0)  # real speed, one second before the fire time
    api.schedule(
        copy("sleeps.ipynb", tmp_path),
        api.ScheduleOptions(cron="0 * * * *", timezone="UTC", retries=1, retry_delay=0),
        name="long",
        store=store,
        now=fire - 60,
    )
    worker = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("sched_worker.py")), "--runner",
         "--log", str(tmp_path / "events.jsonl"), "--owner", "doomed",
         "--start", repr(clock.start), "--origin", repr(clock.origin), "--speed", "1",
         "--poll", "0.5", "--lease", "3", "--grace", "600", "--work", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert worker.stdout.readline().strip() == b"ready"

        def running_run():
            with store.db.read() as conn:
                return conn.execute(
                    runs.select().join(tags, tags.c.run_id == runs.c.id)
                    .where(tags.c.key == "mlops.schedule", tags.c.value == "long",
                           runs.c.status == "running")
                ).first()  # fmt: skip

        deadline = time.time() + 60
        while time.time() < deadline and running_run() is None:
            time.sleep(0.2)
        run = running_run()
        assert run is not None, "the scheduled run never started"
        [live] = api.schedule_history("long", store=store)
        assert live["status"] == "running" and live["run_id"] == run.id  # linked while running
        # When the scheduler process is SIGKILLed in the middle of the run
        worker.send_signal(signal.SIGKILL)
        killed_at = clock.now()
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    # Then a peer takes the slot over once the lease has expired: the run ends crashed and
    # the slot is retried (here by a recording executor)
    peer_executor = RecordingExecutor()
    peer = Scheduler(store, executor=peer_executor, clock=clock, poll_interval=0.5, lease=3)
    deadline = time.time() + 30
    while time.time() < deadline and not peer_executor.jobs:
        peer.tick()
        peer.wait_idle(10)
        time.sleep(0.2)
    [slot] = api.schedule_history("long", store=store)
    first, second = slot["attempts"]
    assert first["status"] == "crashed" and "(doomed)" in first["error"]
    assert first["run_id"] == run.id  # the dead attempt is linked to its run
    assert first["ended_at"] - killed_at <= 3 + 0.5 + 1.0  # lease + poll + stall allowance
    assert second["status"] == "finished" and slot["status"] == "finished"
    crashed = store.runs.get(run.id)
    assert crashed.status == "crashed" and "(doomed)" in crashed.error
