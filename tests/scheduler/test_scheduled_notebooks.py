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
from kernel_magics.core.scheduler.executors import RunnerExecutor

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
        "*/5 * * * *",
        name="metric",
        timezone="UTC",
        parameters={"C": "0.5", "model_name": ""},
        parameters_from_text=True,
        experiment="nightly",
        store=store,
        now=now,
    )
    api.schedule(
        copy("raises.ipynb", tmp_path),
        "*/5 * * * *",
        name="broken",
        timezone="UTC",
        retries=1,
        retry_delay=60,
        notify_command=command,
        store=store,
        now=now,
    )
    api.schedule(
        copy("sleeps.ipynb", tmp_path),
        "*/5 * * * *",
        name="slow",
        timezone="UTC",
        timeout=3,
        store=store,
        now=now,
    )
    scheduler = Scheduler(store, executor=RunnerExecutor(), clock=clock, max_workers=3)
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
