"""``KernelMagicsApp``'s ``Type`` traits choose the swappable parts, and core gets their values.

Like jupyter-scheduler's ``scheduler_class``: ``c.KernelMagicsApp.slot_executor_class``,
``run_executor_class`` and ``serving_backend_class`` take a class (an import string in config)
that must subclass the part's ``Base*`` contract.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from pathlib import Path

import pytest
from server_helpers import server_config
from traitlets import TraitError
from traitlets.config import Config

from kernel_magics.core.runner.executors import BaseRunExecutor, LocalRunExecutor
from kernel_magics.core.scheduler.executors import BaseSlotExecutor, Outcome, RunnerSlotExecutor
from kernel_magics.core.serving.local import LocalServingBackend
from kernel_magics.server.app import KernelMagicsApp

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notebooks"


class RecordingSlotExecutor(BaseSlotExecutor):
    """Says every slot finished, and remembers which schedules it was asked to run."""

    ran: list[str] = []
    called = threading.Event()

    def execute(self, job):
        RecordingSlotExecutor.ran.append(job.schedule.name)
        RecordingSlotExecutor.called.set()
        return Outcome("finished")


class ElsewhereRunExecutor(LocalRunExecutor):
    """A run executor a site would register (here: the local one under another name)."""


def test_the_defaults_are_the_local_parts():
    app = KernelMagicsApp()
    assert app.run_executor_class is LocalRunExecutor
    assert app.slot_executor_class is RunnerSlotExecutor
    assert app.serving_backend_class is LocalServingBackend
    assert app.slot_executor() is None  # the scheduler builds its default on its own thread


def test_a_configured_run_executor_reaches_the_schedulers_slot_executor():
    config = Config(KernelMagicsApp={"run_executor_class": f"{__name__}.ElsewhereRunExecutor"})
    executor = KernelMagicsApp(config=config).slot_executor()
    assert isinstance(executor, RunnerSlotExecutor)
    assert executor.run_executor is ElsewhereRunExecutor
    assert issubclass(executor.run_executor, BaseRunExecutor)


@pytest.mark.parametrize(
    ("trait", "wrong"),
    [
        ("serving_backend_class", "kernel_magics.core.runner.executors.LocalRunExecutor"),
        ("slot_executor_class", "kernel_magics.core.serving.local.LocalServingBackend"),
        ("run_executor_class", "kernel_magics.core.scheduler.executors.RunnerSlotExecutor"),
    ],
)
def test_a_class_outside_the_contract_is_refused(trait, wrong):
    with pytest.raises(TraitError, match=trait):
        KernelMagicsApp(config=Config(KernelMagicsApp={trait: wrong}))


class TestAConfiguredSlotExecutorRunsInTheServer:
    @pytest.fixture
    def jp_server_config(self, store):
        return server_config(
            store,
            KernelMagicsApp={
                "run_scheduler": True,
                "scheduler_poll_interval": 0.2,
                "slot_executor_class": f"{__name__}.RecordingSlotExecutor",
            },
        )

    async def test_the_in_server_scheduler_uses_it(self, jp_fetch, store, tmp_path):
        from kernel_magics.core.scheduler.api import ScheduleOptions, schedule

        # Given a schedule whose latest slot was missed
        RecordingSlotExecutor.ran.clear()
        RecordingSlotExecutor.called.clear()
        notebook = tmp_path / "trivial.ipynb"
        shutil.copy(FIXTURES / "trivial.ipynb", notebook)
        options = ScheduleOptions(cron="* * * * *", catchup="latest")
        schedule(notebook, options, name="custom", store=store, now=time.time() - 150)
        # When the Jupyter server is up
        assert (await jp_fetch("mlops", "api", "status")).code == 200
        deadline = time.monotonic() + 30
        while not RecordingSlotExecutor.called.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        # Then the configured executor, not papermill, ran the slot
        assert RecordingSlotExecutor.ran and set(RecordingSlotExecutor.ran) == {"custom"}
