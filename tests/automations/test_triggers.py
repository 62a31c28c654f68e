"""Each trigger fires once per event: cron fire times, dataset versions, model versions, alert
incidents, and manual runs, each executed as a parent run with one child run per step."""

from __future__ import annotations

import pandas as pd
import pytest
from automation_helpers import make_scheduler, tick

import kernel_magics as mlops
from kernel_magics.core.automations.api import (
    add_automation,
    automation_history,
    pause_automation,
    resume_automation,
    run_automation,
)
from kernel_magics.core.names import SOURCE_AUTOMATION, Tag


def _log_dataset(frame: pd.DataFrame, name: str) -> None:
    with mlops.start_run():
        mlops.log_dataset(frame, name=name)


def _log_model(name: str, seed: int = 0) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0 + seed], "b": [1.0, 0.0, 1.0, 0.0]})
    with mlops.start_run():
        mlops.log_model(LogisticRegression().fit(frame, [0, 0, 1, 1]), name, input_example=frame)


def test_manual_run_is_a_parent_run_with_one_child_per_step(store, inbox):
    # Given
    add_automation({"name": "ping", "trigger": "manual",
                    "steps": [inbox.step("one"), inbox.step("two")]}, store=store)  # fmt: skip

    # When
    execution = run_automation("ping", store=store)

    # Then
    assert execution is not None and execution.ok
    parent = store.runs.get(execution.run_id)
    assert (parent.status, parent.source, parent.name) == ("finished", "automation",
                                                           "automation ping")  # fmt: skip
    assert parent.tags[Tag.AUTOMATION] == "ping"
    page = store.search_runs(parent_run_ids=[parent.id])
    children = [store.runs.get(run_id) for run_id in page.run_ids]
    steps = sorted((r.name, r.status, r.parent_run_id, r.source) for r in children)
    assert steps == [("1. notify", "finished", parent.id, "automation"),
                     ("2. notify", "finished", parent.id, "automation")]  # fmt: skip
    assert [m["message"] for m in inbox.messages] == ["one", "two"]
    assert inbox.messages[1]["steps"] == ["1. notify: notified (command)"]
    [event] = automation_history("ping", store=store)
    assert (event["status"], event["attempt"], event["run_id"]) == ("finished", 1, parent.id)


def test_cron_fires_once_per_fire_time(store, clock, inbox):
    add_automation({"name": "nightly", "trigger": {"cron": "0 3 * * *", "timezone": "UTC"},
                    "steps": [inbox.step()]}, store=store, now=clock.now())  # fmt: skip
    scheduler = make_scheduler(store, clock)

    tick(scheduler)  # 02:00: nothing due
    assert inbox.messages == []
    clock.advance(3600 + 30)  # 03:00:30
    tick(scheduler)
    tick(scheduler)  # the same fire time again: no second execution
    assert [m["trigger"] for m in inbox.messages] == ["cron:1767582000"]
    clock.advance(86400)  # the next day's 03:00
    tick(scheduler)
    assert [m["trigger"] for m in inbox.messages] == ["cron:1767582000", "cron:1767668400"]
    history = automation_history("nightly", store=store)
    assert [(e["event_key"], e["status"]) for e in history] == [
        ("cron:1767668400", "finished"), ("cron:1767582000", "finished")]  # fmt: skip
    assert history[0]["payload"]["slot"] == "2026-01-06T03:00:00+00:00"


def test_dataset_version_fires_once_per_new_version(store, clock, inbox):
    frame = pd.DataFrame({"x": [1, 2, 3]})
    _log_dataset(frame, "churn-train")  # before the automation: not an event
    add_automation({"name": "on-data", "trigger": {"dataset": "churn-train"},
                    "steps": [inbox.step()]}, store=store, now=clock.now())  # fmt: skip
    scheduler = make_scheduler(store, clock)
    tick(scheduler)
    assert inbox.messages == []

    _log_dataset(frame.assign(x=[4, 5, 6]), "churn-train")
    _log_dataset(frame.assign(x=[4, 5, 6]), "churn-train")  # same content: the same version
    _log_dataset(frame, "other-data")  # another dataset
    tick(scheduler)
    tick(scheduler)

    assert [m["trigger"] for m in inbox.messages] == ["dataset:churn-train@2"]
    [event] = automation_history("on-data", store=store)
    assert event["payload"]["dataset_ref"] == "churn-train@2"
    parent = store.runs.get(event["run_id"])
    assert parent.params["dataset_ref"] == "churn-train@2" and parent.source == SOURCE_AUTOMATION


def test_model_version_fires_once_per_new_version(store, clock, inbox):
    _log_model("iris")
    add_automation({"name": "on-model", "trigger": {"model": "iris"},
                    "steps": [inbox.step()]}, store=store, now=clock.now())  # fmt: skip
    scheduler = make_scheduler(store, clock)
    tick(scheduler)
    _log_model("iris", seed=1)
    _log_model("other")
    tick(scheduler)
    tick(scheduler)
    assert [(m["trigger"], m["model"]) for m in inbox.messages] == [("model:iris/2", "iris/2")]


def test_alert_incident_fires_once_per_incident(store, clock, inbox):
    _log_model("iris")
    rule = store.alerts.create("drifting", "iris", ["drift.share > 0.3"], 3600.0, [])
    add_automation({"name": "on-alert", "trigger": {"alert": "drifting"},
                    "steps": [inbox.step()]}, store=store, now=clock.now())  # fmt: skip
    scheduler = make_scheduler(store, clock)
    t = clock.now()
    first, opened = store.alerts.fire(rule.id, t, (t - 3600, t), {"drift.share > 0.3": 0.5})
    assert opened
    tick(scheduler)
    store.alerts.fire(rule.id, t + 60, (t - 3540, t + 60), {"drift.share > 0.3": 0.6})  # same
    tick(scheduler)
    store.alerts.resolve(rule.id, t + 120)
    second, _ = store.alerts.fire(rule.id, t + 180, (t - 3420, t + 180),
                                  {"drift.share > 0.3": 0.4})  # fmt: skip
    tick(scheduler)
    assert [m["trigger"] for m in inbox.messages] == [f"alert:{first.id}", f"alert:{second.id}"]
    payload = automation_history("on-alert", store=store)[0]["payload"]
    assert (payload["alert"], payload["incident"], payload["model_ref"]) == (
        "drifting", second.id, "iris")  # fmt: skip


def test_events_while_paused_are_skipped(store, clock, inbox):
    frame = pd.DataFrame({"x": [1, 2, 3]})
    add_automation({"name": "on-data", "trigger": {"dataset": "d"}, "steps": [inbox.step()]},
                   store=store, now=clock.now())  # fmt: skip
    scheduler = make_scheduler(store, clock)
    pause_automation("on-data", store=store)
    _log_dataset(frame, "d")
    tick(scheduler)
    resume_automation("on-data", store=store, now=clock.now())
    tick(scheduler)
    assert inbox.messages == []
    _log_dataset(frame.assign(x=[7, 8, 9]), "d")
    tick(scheduler)
    assert [m["trigger"] for m in inbox.messages] == ["dataset:d@2"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"name": "x", "trigger": {"alert": "nope"}, "steps": ["test"]},
            "steps[1].test: no model version",
        ),
        (
            {
                "name": "x",
                "trigger": {"alert": "nope"},
                "steps": [{"notify": {"webhook": "https://hooks.example.com/x"}}],
            },
            "trigger.alert: No alert named 'nope'.* Create the rule first",
        ),
        (
            {
                "name": "x",
                "trigger": "manual",
                "steps": [{"run_notebook": {"notebook": "missing.ipynb"}}],
            },
            "steps[1].run_notebook.notebook: 'missing.ipynb' is not a file",
        ),
    ],
)
def test_bad_automations_are_refused_before_anything_is_stored(store, spec, message):
    from kernel_magics.errors import InvalidAutomationError

    pattern = message.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(InvalidAutomationError, match=pattern):
        add_automation(spec, store=store)
    assert store.automations.list() == []
