"""The scheduler warns, at start and every few minutes, when the store drifted from mlops.yaml."""

from __future__ import annotations

import logging

from kernel_magics.core.gitops import apply_plan, export_config, load_config, plan_changes
from kernel_magics.core.gitops.current import store_config
from kernel_magics.core.gitops.drift import CHECK_EVERY_S
from kernel_magics.core.scheduler.clock import ManualClock
from kernel_magics.core.scheduler.daemon import Scheduler

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC, as the project fixture's schedules


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "kernel_magics.gitops" and r.levelno == logging.WARNING]  # fmt: skip


def test_the_scheduler_warns_when_the_store_drifted_from_the_file(store, project, caplog):
    # Given a project whose mlops.yaml matched the store, then someone changed the store by hand
    (project / "mlops.yaml").write_text(export_config(store, project))
    store.schedules.set_paused("nightly", True)
    clock = ManualClock(START + 60)
    scheduler = Scheduler(store, clock=clock, alerts=False)
    caplog.set_level(logging.WARNING, logger="kernel_magics.gitops")
    try:
        # When the scheduler starts: one warning naming the difference and the fix
        scheduler.tick()
        [message] = _warnings(caplog)
        assert message.startswith("The store has drifted from mlops.yaml (1 difference(s)): ")
        assert "update schedule nightly: paused True -> False" in message
        assert "`mlops apply --dry-run --prune`" in message

        # Then no check again until a few minutes passed
        clock.advance(CHECK_EVERY_S / 2)
        scheduler.tick()
        assert len(_warnings(caplog)) == 1

        # Once the file is applied, the next check is quiet
        desired = load_config(project / "mlops.yaml")
        apply_plan(store, plan_changes(desired, store_config(store, project)), project)
        clock.advance(CHECK_EVERY_S)
        scheduler.tick()
        assert len(_warnings(caplog)) == 1
        assert scheduler.drift.last is not None and scheduler.drift.last.empty
    finally:
        scheduler.close()


def test_no_file_no_warning_and_a_broken_file_is_reported(store, project, caplog):
    clock = ManualClock(START + 60)
    scheduler = Scheduler(store, clock=clock, alerts=False)
    caplog.set_level(logging.WARNING, logger="kernel_magics.gitops")
    try:
        scheduler.tick()  # a project without mlops.yaml: nothing to compare
        assert _warnings(caplog) == []
        (project / "mlops.yaml").write_text("schedules: [oops\n")
        clock.advance(CHECK_EVERY_S)
        scheduler.tick()
        [message] = _warnings(caplog)
        assert message.startswith("mlops.yaml cannot be compared with the store: mlops.yaml is not")
    finally:
        scheduler.close()
