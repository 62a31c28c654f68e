"""A failed step stops the chain with its reason and shows as a failed child run; retries
follow the schedules' policy (the whole chain again after retry_delay); a refused decision (the
gate, the model tests) is not retried."""

from __future__ import annotations

import pytest
from automation_helpers import make_scheduler, tick

from kernel_magics.core.automations.api import add_automation, automation_history, run_automation


def _children(store, parent_id):
    page = store.search_runs(parent_run_ids=[parent_id])
    return sorted((store.runs.get(i) for i in page.run_ids), key=lambda r: r.name)


def test_a_failed_notebook_stops_the_chain_and_is_a_failed_child(store, inbox, failing_notebook):
    # Given
    add_automation({"name": "train", "trigger": "manual", "steps": [
        {"run_notebook": {"notebook": str(failing_notebook), "parameters": {"label": "${event}"}}},
        inbox.step(),
    ]}, store=store)  # fmt: skip

    # When
    execution = run_automation("train", store=store)

    # Then
    assert execution is not None and execution.status == "failed"
    assert [(s.kind, s.status) for s in execution.steps] == [("run_notebook", "failed")]
    assert inbox.messages == []  # the notify step never ran
    parent = store.runs.get(execution.run_id)
    assert parent.status == "failed"
    assert parent.error.startswith("Step 1 (run_notebook) failed:") and "ValueError" in parent.error
    [child] = _children(store, parent.id)
    assert (child.name, child.status, child.source) == ("1. run_notebook", "failed", "automation")
    assert "bad input manual:" in child.error  # the trigger's event went in as a parameter
    [event] = automation_history("train", store=store)
    assert (event["status"], event["attempts"][0]["step"]) == ("failed", "run_notebook")
    assert "ValueError" in event["error"]


def test_retries_run_the_chain_again_after_the_delay_then_give_up(store, clock, tmp_path, inbox):
    # A notification command that fails: the step fails with the command's exit status.
    add_automation({"name": "flaky", "trigger": {"cron": "0 3 * * *", "timezone": "UTC"},
                    "retries": 1, "retry_delay": 120,
                    "steps": [inbox.step(), {"notify": {"command": "false"}}]},
                   store=store, now=clock.now())  # fmt: skip
    scheduler = make_scheduler(store, clock)
    clock.advance(3600 + 10)
    tick(scheduler)
    [event] = automation_history("flaky", store=store)
    assert (event["status"], event["attempt"]) == ("retrying", 1)
    assert "Step 2 (notify) failed: notify command exited 1" in event["error"]

    clock.advance(60)  # before the retry delay: nothing
    tick(scheduler)
    assert len(inbox.messages) == 1
    clock.advance(61)
    tick(scheduler)
    [event] = automation_history("flaky", store=store)
    assert (event["status"], event["attempt"]) == ("failed", 2)
    assert [a["status"] for a in event["attempts"]] == ["failed", "failed"]
    assert len({a["run_id"] for a in event["attempts"]}) == 2  # one parent run per attempt
    assert len(inbox.messages) == 2


def test_a_refused_gate_stops_the_chain_without_retrying(store, clock, inbox):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import kernel_magics as mlops
    from kernel_magics.core.registry import parse_ref

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    with mlops.start_run():
        mlops.log_metric("accuracy", 0.9)
        mlops.log_model(LogisticRegression().fit(frame, [0, 0, 1, 1]), "m", input_example=frame,
                        alias="production")  # fmt: skip
    add_automation({"name": "gate", "trigger": {"model": "m"}, "retries": 3, "steps": [
        {"promote": {"to": "production", "better_than": "production", "metric": "accuracy"}},
        inbox.step(),
    ]}, store=store, now=clock.now())  # fmt: skip
    with mlops.start_run():
        mlops.log_metric("accuracy", 0.7)  # worse than production
        mlops.log_model(LogisticRegression().fit(frame, [0, 1, 0, 1]), "m", input_example=frame)
    scheduler = make_scheduler(store, clock)
    tick(scheduler)
    clock.advance(600)
    tick(scheduler)

    [event] = automation_history("gate", store=store)
    assert (event["status"], event["attempt"]) == ("failed", 1)  # no retry of a decision
    assert "The gate refused m/2 for @production" in event["error"]
    assert "FAILED" in event["error"]
    assert inbox.messages == []
    assert store.models.get_version(parse_ref("m@production")).version == 1


@pytest.mark.parametrize("kind", ["promote_challenger"])
def test_a_step_without_its_input_fails_with_the_reason(store, kind):
    # promote_challenger with an explicit target that runs no challenger
    add_automation({"name": "lonely", "trigger": "manual",
                    "steps": [{kind: {"target": "nosuch@production"}}]}, store=store)  # fmt: skip
    execution = run_automation("lonely", store=store)
    assert execution is not None and execution.status == "failed"
    assert "could not be promoted" in (execution.error or "")
    assert store.runs.get(execution.steps[0].run_id).status == "failed"
