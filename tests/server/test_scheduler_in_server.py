"""While JupyterLab runs, its server fires schedules (no `mlops scheduler` daemon needed)."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest
from server_helpers import server_config

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notebooks"


@pytest.fixture
def jp_server_config(store):
    return server_config(
        store, KernelMagicsApp={"run_scheduler": True, "scheduler_poll_interval": 0.5}
    )


@pytest.mark.slow
async def test_schedules_fire_inside_the_jupyter_server(jp_fetch, store, tmp_path):
    from kernel_magics.core.scheduler.api import ScheduleOptions, schedule, schedule_history

    # Given a schedule created two and a half minutes ago whose latest slot was missed
    notebook = tmp_path / "trivial.ipynb"
    shutil.copy(FIXTURES / "trivial.ipynb", notebook)
    schedule(
        notebook,
        ScheduleOptions(cron="* * * * *", catchup="latest"),
        name="minutely",
        store=store,
        now=time.time() - 150,
    )

    # When the Jupyter server is up (and nothing else runs a scheduler)
    response = await jp_fetch("mlops", "api", "status")
    assert response.code == 200
    deadline = time.monotonic() + 120
    finished = []
    while time.monotonic() < deadline and not finished:
        await asyncio.sleep(0.5)
        finished = [
            s for s in schedule_history("minutely", store=store) if s["status"] == "finished"
        ]

    # Then the missed slot ran as a tracked papermill run of the schedule
    assert finished, schedule_history("minutely", store=store)
    run = store.runs.get(finished[0]["run_id"])
    assert run.source == "schedule" and run.status == "finished"
    assert run.tags["mlops.schedule"] == "minutely"
